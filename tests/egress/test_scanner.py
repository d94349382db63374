from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.egress import (
    DEFAULT_CLASSIFIERS,
    Classification,
    ScanLimits,
    Scanner,
    custom_classifier,
    redact,
    scan,
)
from agent_security.egress.testing import GENERATORS, generate

ALL_KINDS = {
    "ssn",
    "email",
    "phone",
    "credit_card",
    "iban",
    "aws_access_key",
    "aws_secret_key",
    "private_key",
    "github_token",
    "slack_token",
    "stripe_key",
    "openai_key",
    "google_api_key",
    "jwt",
    "password_in_url",
    "generic_secret",
}
SAMPLES = {
    "ssn": "SSN {v}",
    "email": "mail {v}",
    "phone": "call {v}",
    "credit_card": "card {v}",
    "iban": "iban {v}",
    "aws_access_key": "id {v}",
    "aws_secret_key": "aws_secret_access_key={v}",
    "private_key": "{v}",
    "github_token": "{v}",
    "slack_token": "{v}",
    "stripe_key": "{v}",
    "openai_key": "{v}",
    "google_api_key": "{v}",
    "jwt": "{v}",
    "password_in_url": "{v}",
    "generic_secret": "password={v}",
}
GEN = {**{k: k for k in SAMPLES}, "generic_secret": "password"}


def kinds(value: object) -> set[str]:
    return {f.kind for f in scan(value)}


def test_default_classifiers_cover_every_kind_with_the_right_class() -> None:
    assert {c.kind for c in DEFAULT_CLASSIFIERS} == ALL_KINDS
    by_kind = {c.kind: c.classification for c in DEFAULT_CLASSIFIERS}
    assert {k for k, c in by_kind.items() if c is Classification.PII} == {"ssn", "email", "phone", "iban"}
    assert by_kind["credit_card"] is Classification.PCI
    assert {k for k, c in by_kind.items() if c is Classification.SECRET} == ALL_KINDS - {
        "ssn",
        "email",
        "phone",
        "iban",
        "credit_card",
    }


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_found_with_span_path_and_safe_mask(kind: str) -> None:
    for seed in range(5):
        raw = generate(GEN[kind], seed)
        text = SAMPLES[kind].format(v=raw)
        found = [f for f in scan({"arg": text}) if f.kind == kind]
        assert found, (kind, seed)
        f = found[0]
        assert f.path == "$.arg"
        covered = text[f.span[0] : f.span[1]].strip()
        assert covered and (covered in raw or raw in covered)
        assert raw not in f.masked
        assert 0.5 <= f.confidence <= 1.0
        assert f.classification is {c.kind: c.classification for c in DEFAULT_CLASSIFIERS}[kind]


def test_original_probes_and_misses_are_now_found() -> None:
    # detected by the original, still detected
    for text, kind in [
        ("123-45-6789", "ssn"),
        ("john.doe@example.com", "email"),
        ("(555) 123-4567", "phone"),
        ("4111-1111-1111-1111", "credit_card"),
        ("4111111111111111", "credit_card"),
        ("password=hunter2hunter2", "generic_secret"),
    ]:
        assert kind in kinds(text), text
    # missed by the original (W22), found now
    assert "ssn" in kinds("my ssn is 123 45 6789")
    assert "ssn" in kinds({"ssn": "123456789"})
    assert "phone" in kinds("+44 20 7946 0958")
    assert "credit_card" in kinds("378282246310005")
    assert "stripe_key" in kinds("sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc")
    assert "github_token" in kinds(generate("github_token", 9))
    assert "private_key" in kinds(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
        "AAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDx\n-----END OPENSSH PRIVATE KEY-----"
    )
    assert "generic_secret" in kinds("password=hunter2")
    # false positive of the original, not anymore
    assert kinds("Order 1234567890 shipped") == set()


def test_documented_examples_and_placeholders_are_not_findings() -> None:
    assert kinds("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == set()
    assert kinds({"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}) == set()
    assert kinds({"token": "${GITHUB_TOKEN}", "password": "<password>", "api_key": "{{ key }}"}) == set()
    assert kinds("gh" + "p_" + "x" * 36) == set()
    assert kinds("postgres://app:${PGPASSWORD}@db/x") == set()


def test_hard_negatives() -> None:
    assert kinds("id 550e8400-e29b-41d4-a716-446655440000 sha 9fceb02d0ae598e95dc970b74767f19372d61af8") == set()
    assert kinds("version 1.2.3, build 2024.01.15, 4111111111111112") == set()
    assert kinds({"max_tokens": 4096, "author": "Ada", "token_count": 123456789}) == set()


def test_context_words_and_key_names_change_confidence() -> None:
    assert kinds("ref 219099999") == set()
    assert kinds("ssn 219099999") == {"ssn"}
    assert kinds({"ssn": "219099999"}) == {"ssn"}
    assert kinds("4155550123") == set()
    assert kinds({"phone": "4155550123"}) == {"phone"}
    plain = next(f for f in scan("id 123-45-6789") if f.kind == "ssn").confidence
    ctx = next(f for f in scan("SSN: 123-45-6789") if f.kind == "ssn").confidence
    assert ctx > plain


def test_generic_secrets_only_next_to_secret_like_key_names() -> None:
    high_entropy = generate("api_secret", 1)
    assert kinds(f"value {high_entropy}") == set()
    assert kinds(f"client_secret={high_entropy}") == {"generic_secret"}
    assert kinds({"api_key": high_entropy}) == {"generic_secret"}
    assert kinds({"description": high_entropy}) == set()
    assert kinds({"token": "short"}) == set()


def test_nested_paths_and_non_string_leaves() -> None:
    value = {"a": [{"b": "x"}, {"c": {"card": 4111111111111111}}], "weird key": "mail bob@corp.example"}
    got = {(f.kind, f.path) for f in scan(value)}
    assert got == {("credit_card", "$.a[1].c.card"), ("email", '$["weird key"]')}


def test_sensitive_dict_key_is_scanned_and_kept_out_of_paths() -> None:
    key = generate("github_token", 2)
    fs = scan({key: {"inner": "bob@corp.example"}})
    assert {f.kind for f in fs} == {"github_token", "email"}
    assert all(key not in f.path for f in fs)


@pytest.mark.parametrize(
    ("transform", "label"),
    [
        (lambda s: base64.b64encode(s.encode()).decode(), "base64"),
        (lambda s: urllib.parse.quote(s, safe=""), "url"),
        (lambda s: s.encode().hex(), "hex"),
        (lambda s: "".join(f"\\u{ord(c):04x}" for c in s), "escape"),
    ],
)
def test_decoding_reports_its_path(transform, label: str) -> None:  # type: ignore[no-untyped-def]
    raw = generate("aws_access_key", 3)
    text = "payload " + transform("key " + raw) + " end"
    f = next(x for x in scan(text) if x.kind == "aws_access_key")
    assert f.decoding == (label,)
    covered = text[f.span[0] : f.span[1]]
    if label in ("base64", "hex"):  # the whole encoded segment
        assert covered == transform("key " + raw)
    else:  # %XX and \\u escapes are mapped back exactly
        assert covered == transform(raw) if label == "escape" else covered == raw


def test_nested_decoding_is_followed_and_bounded() -> None:
    raw = "ssn 123-45-6789"
    layered = raw
    for _ in range(2):
        layered = base64.b64encode(urllib.parse.quote(layered, safe="").encode()).decode()
    f = next(x for x in scan(layered) if x.kind == "ssn")
    assert f.decoding[0] == "base64" and "url" in f.decoding and len(f.decoding) <= 3
    deep = raw
    for _ in range(6):
        deep = base64.b64encode(deep.encode()).decode()
    report = Scanner(limits=ScanLimits(max_decode_depth=3)).scan(deep)
    assert not report.findings
    assert not report.complete and "max_decode_depth" in report.limits_hit


@pytest.mark.parametrize(
    "text",
    [
        "SSN \uff11\uff12\uff13\u2010\uff14\uff15\u2010\uff16\uff17\uff18\uff19",  # fullwidth digits, hyphen
        "SSN 1\u200b2\u200b3-4\u200d5-6\u20607\u00ad89",  # invisible characters
        "SSN 123\u201345\u20146789",  # en/em dash
    ],
)
def test_normalisation_defeats_evasions_and_maps_spans_back(text: str) -> None:
    f = next(x for x in scan(text) if x.kind == "ssn")
    assert f.span[0] == 4 and f.span[1] == len(text)


def test_email_obfuscation_and_fullwidth_at() -> None:
    assert "email" in kinds("bob [at] corp [dot] com")
    assert "email" in kinds("bob\uff20corp.com")


def test_limits_make_the_scan_incomplete_not_silent() -> None:
    sc = Scanner(limits=ScanLimits(max_total_bytes=1024))
    rep = sc.scan({"a": "x" * 600, "b": "y" * 600})
    assert not rep.complete and "max_total_bytes" in rep.limits_hit
    deep: object = "bob@corp.example"
    for _ in range(100):
        deep = [deep]
    rep = Scanner(limits=ScanLimits(max_depth=10)).scan(deep)
    assert "max_depth" in rep.limits_hit
    rep = Scanner(limits=ScanLimits(max_nodes=5)).scan(list(range(100)))
    assert "max_nodes" in rep.limits_hit
    rep = Scanner(limits=ScanLimits(max_findings=3)).scan(["bob@corp.example"] * 10)
    assert len(rep.findings) == 3 and "max_findings" in rep.limits_hit


def test_hostile_inputs_complete() -> None:
    # patterns are linear (RE2 for the pass, bounded windows for detectors): these finish promptly
    for text in [
        "@" * 200_000,
        "a@" * 100_000,
        "1-" * 100_000,
        "A" * 300_000,
        "%41" * 50_000,
        "\\u0041" * 30_000,
        "password=" * 20_000,
        "-----BEGIN PRIVATE KEY-----" * 5_000,
        "x://a:b@" * 20_000,
        "\u200b" * 100_000 + "123-45-6789",
    ]:
        rep = Scanner().scan(text)
        assert isinstance(rep.findings, list)


def test_redact_replaces_findings_and_keeps_the_rest() -> None:
    card = generate("credit_card", 1)
    value = {"body": f"pay {card} now", "n": 1, "list": ["bob@corp.example", None, True]}
    out = redact(value)
    assert card not in json.dumps(out)
    assert out["body"].startswith("pay [****-****-****-") and out["body"].endswith("] now")
    assert out["list"][0] == "[b***@corp.example]"
    assert out["n"] == 1 and out["list"][1:] == [None, True]
    assert value["body"] == f"pay {card} now"  # input untouched


def test_redact_decoded_segment_replaces_the_whole_segment() -> None:
    blob = base64.b64encode(b"the key " + generate("aws_access_key", 4).encode()).decode()
    out = redact(f"data {blob} tail")
    assert blob not in out and out.startswith("data [AKIA****]") and out.endswith(" tail")


def test_custom_classifier_runs_through_re2_and_validates() -> None:
    emp = custom_classifier(
        "employee_id",
        r"\bEMP-\d{6}\b",
        "PII",
        validator=lambda s: not s.endswith("000000"),
        context_words=["employee"],
        confidence=0.45,
    )
    sc = Scanner([*DEFAULT_CLASSIFIERS, emp])
    assert {f.kind for f in sc.scan("employee EMP-123456").findings} == {"employee_id"}
    assert sc.scan("EMP-123456").findings == []  # 0.45 without context < 0.5
    assert sc.scan("employee EMP-000000").findings == []
    f = sc.scan("employee EMP-123456").findings[0]
    assert f.masked == "[employee_id]" and f.classification is Classification.PII


@pytest.mark.parametrize("pattern", ["(a", "a*", r"(\d+)", "(?=x)"])
def test_custom_classifier_rejects_bad_patterns(pattern: str) -> None:
    from agent_security.core import ConfigurationError

    with pytest.raises(ConfigurationError):
        custom_classifier("bad", pattern)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.one_of(st.text(max_size=200), st.integers(), st.none(), st.booleans()),
        lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.text(max_size=20), ch, max_size=4),
        max_leaves=20,
    )
)
def test_scan_never_raises_and_spans_are_in_range(value: object) -> None:
    rep = Scanner().scan(value)
    for f in rep.findings:
        assert 0 <= f.span[0] <= f.span[1]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(sorted(k for k in GENERATORS if k in ALL_KINDS)),
    st.integers(0, 10_000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
)
def test_masked_preview_never_contains_the_raw_value(kind: str, seed: int, noise: str) -> None:
    raw = generate(kind, seed)
    for f in scan(f"{noise} {raw} {noise}"):
        assert raw not in f.masked
        if f.classification is Classification.SECRET and f.kind not in ("password_in_url", "private_key"):
            assert raw[-6:] not in f.masked  # no tail of a secret either (the host of a URL may show)


def test_large_benign_payloads_stay_complete() -> None:
    import os
    import random as _random

    image = base64.b64encode(os.urandom(300_000)).decode()
    rng = _random.Random(1)
    code = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ") for _ in range(24)) for _ in range(5000))
    rep = Scanner().scan({"image": image, "source": code, "hashes": [generate("sha", i) for i in range(500)]})
    assert rep.complete and rep.findings == []


def test_concurrent_scans_agree() -> None:
    from concurrent.futures import ThreadPoolExecutor

    sc = Scanner()
    values = [{"i": i, "body": f"mail user{i}@corp.example key {generate('github_token', i)}"} for i in range(40)]
    expected = [[(f.kind, f.span) for f in sc.scan(v).findings] for v in values]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda v: [(f.kind, f.span) for f in sc.scan(v).findings], values))
    assert got == expected and all(len(x) == 2 for x in got)


def test_quoted_passphrases_and_session_ids() -> None:
    text = '{"password": "correct horse battery staple"}'
    f = next(x for x in scan(text) if x.kind == "generic_secret")
    assert text[f.span[0] : f.span[1]] == "correct horse battery staple"
    assert kinds({"password": "correct horse battery"}) == {"generic_secret"}
    assert kinds({"password": "must be at least twelve characters long, one digit"}) == set()
    assert kinds("sessionid=8f14e45fceea167a5a36dedd4bea2543") == {"generic_secret"}
    assert kinds('token="abc def ghi jkl mno pqr"') == set()
    assert kinds("password: !vault |") == set()


def test_anchor_dense_input_is_bounded_and_reported() -> None:
    rep = Scanner(limits=ScanLimits(max_anchor_hits=1000)).scan("a@b " * 5000)
    assert not rep.complete and "max_anchor_hits" in rep.limits_hit
    # runs of escapes are one anchor hit each, decoded once per layer
    rep = Scanner(limits=ScanLimits(max_anchor_hits=1000)).scan("%41" * 50_000 + " " + "\\u0041" * 20_000)
    assert rep.complete


def test_escaped_and_percent_encoded_findings_map_back_exactly() -> None:
    text = "a%20b " + urllib.parse.quote("mail bob@corp.example now", safe="") + " tail"
    f = next(x for x in scan(text) if x.kind == "email")
    assert urllib.parse.unquote(text[f.span[0] : f.span[1]]) == "bob@corp.example"
    assert redact(text).endswith(" tail") and "bob%40corp" not in redact(text)


def test_mime_base64_lines_decode_as_one_segment() -> None:
    body = ("Dear team, " * 20 + "the deploy key is " + generate("github_token", 8) + ". Regards.").encode()
    b64 = base64.b64encode(body).decode()
    mime = "\r\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    rep = Scanner().scan({"attachment": mime})
    assert rep.complete
    f = next(x for x in rep.findings if x.kind == "github_token")
    assert f.decoding == ("base64",) and f.span == (0, len(mime))


def test_long_keys_with_a_common_prefix_do_not_share_a_path() -> None:
    prefix = "k" * 70
    value = {prefix + "a": "x mail bob@corp.example", prefix + "b": "no findings here, just text of similar size"}
    fs = scan(value)
    assert len(fs) == 1 and fs[0].path.endswith("#0]")
    out = redact(value)
    assert out[prefix + "b"] == value[prefix + "b"] and "bob@corp" not in out[prefix + "a"]


def test_fullwidth_spans_are_exact_within_short_runs() -> None:
    text = "\uff4d\uff41\uff49\uff4c \uff42\uff4f\uff42\uff20\uff43\uff4f\uff52\uff50\uff0e\uff43\uff4f\uff4d ok"
    f = next(x for x in scan(text) if x.kind == "email")
    assert text[f.span[0] : f.span[1]] == "\uff42\uff4f\uff42\uff20\uff43\uff4f\uff52\uff50\uff0e\uff43\uff4f\uff4d"
