"""What the scanner must see through: negative words, padding, sensitive keys, number forms, other scripts' digits,
combining marks and encodings (from the egress security review; each failed before its fix)."""

from __future__ import annotations

import base64

import pytest

from agent_security.egress import Scanner, scan

CARD = "5500005555555559"


@pytest.mark.parametrize(
    "text",
    [
        f"sample {CARD}",
        f"fake data: {CARD}",
        f"https://collector.example/?d={CARD}",
        f"see https://h.example/x?c={CARD}&n=1",
    ],
)
def test_negative_words_cannot_hide_a_validated_card(text: str) -> None:
    assert [f.kind for f in scan(text)] == ["credit_card"]


@pytest.mark.parametrize("pad", [" " * 5000, "\n" * 4100, "\t" * 2500 + " " * 2500])
def test_whitespace_padding_does_not_hide_a_password_under_its_key(pad: str) -> None:
    value = {"password": pad + "hunter22hunter" + pad}
    found = [(f.kind, f.span) for f in scan(value)]
    assert found == [("generic_secret", (len(pad), len(pad) + 14))]
    assert "hunter22" not in str(Scanner().redact(value))


def test_value_under_a_sensitive_key_has_its_own_path_and_redaction() -> None:
    sc = Scanner()
    value = {"john.smith@corp.com": "card 4111 1111 1111 1111", "4111-1111-1111-1111": "n/a"}
    paths = {(f.kind, f.path) for f in sc.scan(value).findings}
    assert paths == {("email", "$.<key#0>"), ("credit_card", "$.<value#0>"), ("credit_card", "$.<key#1>")}
    # only the card is redacted: the email key stays whole, the value under the card key is untouched
    out = sc.redact(value, kinds=["credit_card"])
    assert out == {"john.smith@corp.com": "card [****-****-****-1111]", "[****-****-****-1111]": "n/a"}


def test_keys_masked_alike_do_not_overwrite_each_other() -> None:
    value = {"4111 1111 1111 1111": "a", "4111-1111-1111-1111": "b", "[****-****-****-1111]": "c"}
    out = Scanner().redact(value)
    assert sorted(out.values()) == ["a", "b", "c"]
    assert "4111" not in str(out)


def test_integral_floats_are_scanned_and_redacted() -> None:
    sc = Scanner()
    value = {"amount": 12.5, "n": 4111111111111111.0, "ssn": 123456789.0}
    assert {(f.kind, f.path) for f in sc.scan(value).findings} == {("credit_card", "$.n"), ("ssn", "$.ssn")}
    out = sc.redact(value)
    assert out["amount"] == 12.5 and out["n"] == "[****-****-****-1111]" and "6789" in out["ssn"]
    assert "4111111111111111" not in str(out) and "12345" not in str(out)


def test_an_int_too_long_for_str_is_an_incomplete_scan_not_a_crash() -> None:
    huge = 4111111111111111 * 10**4400
    report = Scanner().scan({"x": huge})
    assert not report.complete and report.limits_hit == ["max_int_digits"]


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("card \u0664\u0661\u0661\u0661" + "\u0661" * 12 + " x", "credit_card", (5, 21)),  # Arabic-Indic digits
        ("ssn \u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669", "ssn", (4, 15)),
        ("4\u0301" + "1" * 15, "credit_card", (0, 17)),  # a combining mark after the first digit
        ("4\u0301" + "1\u0301" * 15, "credit_card", (0, 31)),
    ],
)
def test_other_script_digits_and_combining_marks_are_folded(text: str, kind: str, span: tuple[int, int]) -> None:
    assert [(f.kind, f.span) for f in scan(text)] == [(kind, span)]
    assert "11111" not in Scanner().redact(text).replace("\u0301", "")


@pytest.mark.parametrize(
    "prefix", ["https://evil.com/", "https://evil.com/x/", "https://evil.com/exfil/", "GET /a/b/c/"]
)
def test_base64_in_a_url_path_is_decoded(prefix: str) -> None:
    blob = base64.b64encode(b"card 4111111111111111 ssn 123-45-6789").decode()
    fs = scan(prefix + blob)
    assert {(f.kind, f.decoding) for f in fs} == {("credit_card", ("base64",)), ("ssn", ("base64",))}
    out = Scanner().redact(prefix + blob)
    assert blob not in out and "Y2FyZCA0" not in out


@pytest.mark.parametrize("text", ["4111.1111.1111.1111", "pay 5500.0055.5555.5559 now", "4111111111111111.0"])
def test_dot_grouped_card_numbers_are_found(text: str) -> None:
    assert [f.kind for f in scan(text)] == ["credit_card"]
