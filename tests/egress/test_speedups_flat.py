"""The egress speed code (``agent_security.egress._speedups``) gives what the plain code gives: the joined
search of a flat argument finds what the general walk finds (values split across fields, numbers, separator
bytes, limits), the email detector finds what its earlier two-pass form found, and a finding built by
``new_finding`` is a ``Finding`` like any other."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.egress import ScanLimits, Scanner
from agent_security.egress._speedups.flat import nothing_to_find
from agent_security.egress._speedups.records import new_finding
from agent_security.egress.classifiers import EMAIL
from agent_security.egress.classifiers.base import Hit, score
from agent_security.egress.classifiers.numbers import _EMAIL_CTX, _FILE_TLDS
from agent_security.egress.findings import Classification, Finding, ScanReport
from agent_security.egress.limits import Budget
from agent_security.egress.scanner import LayerView
from agent_security.egress.testing import generate

SENSITIVE = [
    "team@company.example",
    "jane.doe@mail.example.org",
    "4111 1111 1111 1111",
    generate("github_token", 3),
    generate("credit_card", 5),
    "123-45-6789",
    "password=hunter22hunter",
    "call me at 415-555-0123",
    "Don't forget the standup at 10am tomorrow; version 2.4.1, page 42.",
]


@st.composite
def split_value(draw: st.DrawFn) -> list[str]:
    """A sensitive string cut in two or three pieces (the pieces go to neighbouring fields)."""
    text = draw(st.sampled_from(SENSITIVE))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=2)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


LEAF = st.one_of(
    st.sampled_from(SENSITIVE),
    st.text(alphabet="ab@.c1 -\x00_\n", max_size=12),
    st.text(max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([4111111111111111, 123456789, 4155550123, 4111111111111111.0, 1.5, float("nan")]),
    st.none(),
    st.booleans(),
    st.text(alphabet="ab1 ", min_size=250, max_size=270),
)
KEYS = st.sampled_from(["to", "cc", "subject", "body", "x", "n", "note", "ssn", "phone", "password", "q"])


@st.composite
def flat_args(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(KEYS, unique=True, max_size=6))
    values: list[Any] = []
    while len(values) < len(keys):
        if draw(st.booleans()):
            values.extend(draw(split_value()))
        else:
            values.append(draw(LEAF))
    return dict(zip(keys, values, strict=False))


def _general(sc: Scanner, value: Any) -> ScanReport:
    report = ScanReport()
    budget = Budget(sc.limits, report)
    sc._walk(value, "$", None, 0, budget)
    report.bytes_scanned = budget.scanned
    report.decoded_segments = budget.attempts
    return report


SCANNER = Scanner()


@given(flat_args())
@settings(max_examples=400, deadline=None)
def test_joined_search_equals_the_general_walk(value: dict[str, Any]) -> None:
    fast = SCANNER.scan(value)
    slow = _general(SCANNER, value)
    assert fast.findings == slow.findings
    assert (fast.complete, fast.limits_hit, fast.bytes_scanned) == (slow.complete, slow.limits_hit, slow.bytes_scanned)


@given(flat_args())
@settings(max_examples=100, deadline=None)
def test_joined_search_equals_the_general_walk_under_tight_limits(value: dict[str, Any]) -> None:
    sc = Scanner(limits=ScanLimits(max_total_bytes=60, max_findings=1, max_int_digits=12))
    fast = sc.scan(value)
    slow = _general(sc, value)
    assert fast.findings == slow.findings
    assert (fast.complete, fast.limits_hit) == (slow.complete, slow.limits_hit)


@given(flat_args(), st.one_of(st.none(), st.sampled_from(SENSITIVE), st.text(max_size=30)))
@settings(max_examples=200, deadline=None)
def test_the_gate_passes_only_clean_arguments(value: dict[str, Any], text: str | None) -> None:
    reports = [_general(SCANNER, value), *([SCANNER.scan(text)] if text else [])]
    if nothing_to_find(SCANNER, value, text):
        assert all(not r.findings and r.complete for r in reports)
    else:  # the scan after the gate may reuse the gate's search: same findings
        assert SCANNER.scan(value).findings == reports[0].findings


def test_split_and_whole_values_of_the_benchmark_shape() -> None:
    arg = {"to": "team@company.example", "subject": "Standup reminder", "body": "page 42 of version 2.4.1"}
    assert [(f.kind, f.path) for f in SCANNER.scan(arg).findings] == [("email", "$.to")]
    split = {"a": "card 4111 1111", "b": " 1111 1111", "n": 7}
    assert [(f.kind, f.path, f.decoding) for f in SCANNER.scan(split).findings] == [("credit_card", "$", ("joined",))]
    assert SCANNER.scan(split).findings == _general(SCANNER, split).findings


# -- the email detector -------------------------------------------------------------------------------------

_LOCAL_REV = re.compile(rb"[A-Za-z0-9._%+\-]{1,64}")
_HOST_RUN = re.compile(rb"[A-Za-z0-9.\-]{1,255}")


def _reference_domain(data: bytes, start: int) -> tuple[int, bytes] | None:
    m = _HOST_RUN.match(data, start)
    if m is None:
        return None
    labels = m.group(0).split(b".")
    for k in range(min(len(labels), 9), 1, -1):
        tld = labels[k - 1]
        if not (2 <= len(tld) <= 24 and tld.isalpha()):
            continue
        head = labels[: k - 1]
        if all(lb and len(lb) <= 63 and lb[:1] != b"-" and lb[-1:] != b"-" for lb in head):
            return start + len(b".".join(labels[:k])), tld
    return None


def _reference_email(view: LayerView, s: int, e: int) -> Iterable[Hit]:
    """The email detector as it was written before (reversed-window local part, label-by-label domain)."""
    data = view.data
    s += 1
    lm = _LOCAL_REV.match(data[max(0, s - 64) : s][::-1])
    if lm is None:
        return
    ls = s - lm.end()
    local = data[ls:s]
    while local[:1] in (b".", b"-", b"+"):
        local, ls = local[1:], ls + 1
    if not local or local.endswith(b"."):
        return
    if ls > 0 and data[ls - 1] in b":/\\" and data[max(0, ls - 7) : ls].lower() != b"mailto:":
        return
    dom = _reference_domain(data, s + 1)
    if dom is None or dom[1].lower() in _FILE_TLDS:
        return
    dend = dom[0]
    if local == b"git" and data[dend : dend + 1] == b":":
        return
    conf = score(view, ls, 0.85, _EMAIL_CTX, ("email", "mail"), (b"lorem",))
    masked = local[:1].decode() + "***@" + data[s + 1 : dend].decode()
    yield Hit("email", Classification.PII, ls, dend, conf, masked, 50, "email")


EMAILISH = st.text(alphabet="abzAZ09.-+_%@:/\\ \x00", max_size=40).map(str.encode) | st.builds(
    lambda local, labels, tld, tail: f"{local}@{'.'.join(labels)}.{tld}{tail}".encode(),
    st.text(alphabet="ab.-+_1", max_size=70),
    st.lists(st.text(alphabet="ab-1", min_size=0, max_size=66), min_size=0, max_size=11),
    st.text(alphabet="abcpngZ1-", max_size=26),
    st.sampled_from(["", ".", ":x", "-", "1", " ", ".com"]),
)


@given(EMAILISH, st.sampled_from([None, "to", "email", "note"]))
@settings(max_examples=600, deadline=None)
def test_email_detector_finds_what_its_earlier_form_found(data: bytes, key: str | None) -> None:
    view = LayerView(data, key, 0, 1)
    for m in re.finditer(rb"(?=[A-Za-z0-9._%+\-]@[A-Za-z0-9])", data):
        s = m.start()
        assert list(EMAIL.detect(view, s, s + 3)) == list(_reference_email(view, s, s + 3))


def test_email_domain_of_many_labels_and_a_long_host() -> None:
    long_host = b"x@" + b".".join([b"a" * 63] * 5) + b".example"
    view = LayerView(long_host, None, 0, 1)
    assert list(EMAIL.detect(view, 0, 3)) == list(_reference_email(view, 0, 3))
    deep = b"x@" + b".".join([b"a"] * 12) + b".com"
    view = LayerView(deep, None, 0, 1)
    assert list(EMAIL.detect(view, 0, 3)) == list(_reference_email(view, 0, 3))


# -- findings built by the speed code -------------------------------------------------------------------------


@given(
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.text(max_size=8),
    st.tuples(st.integers(0, 99), st.integers(0, 99)),
    st.lists(st.sampled_from(["base64", "url", "joined"]), max_size=2).map(tuple),
)
def test_new_finding_is_the_finding(
    confidence: float, path: str, span: tuple[int, int], decoding: tuple[str, ...]
) -> None:
    built = new_finding("email", Classification.PII, path, span, confidence, "x***", decoding, "email")
    plain = Finding("email", Classification.PII, path, span, round(confidence, 3), "x***", decoding, "email")
    assert type(built) is Finding
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    assert dataclasses.replace(built, path="$.x") == dataclasses.replace(plain, path="$.x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.kind = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "value",
    [
        {"a": "x@y " * 30, "b": "p@q " * 30},  # more than 64 matches in the joined fields, none across two
        {"a": "x@y " * 40 + "team@comp", "b": "any.example ok"},  # a split address after 64 matches
        {"a": "x@y " * 10 + "team@comp", "b": "any.example ok"},  # a split address after a few matches
        {"a": "4111 1111", "b": " 1111 1111", "c": "team@company.example", "d": 4111111111111111},
        {"a": "team@company.example", "b": "x", "c": "", "d": None, "e": True, "f": 3},
    ],
)
def test_joined_search_on_dense_and_split_fields(value: dict[str, Any]) -> None:
    fast = SCANNER.scan(value)
    slow = _general(SCANNER, value)
    assert fast.findings == slow.findings
    assert (fast.complete, fast.bytes_scanned) == (slow.complete, slow.bytes_scanned)
    if not nothing_to_find(SCANNER, value):
        assert SCANNER.scan(value).findings == slow.findings
