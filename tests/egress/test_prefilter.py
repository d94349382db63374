"""The prefilter (``agent_security.egress._speedups``) stands in front of the detectors without hiding
anything from them: its decoder triggers cover what they claim, the card anchor is the brand table, the flat
fast path gives the general walk's findings, and the context gate opens where bare numbers need it."""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.egress import Scanner, scan
from agent_security.egress._speedups.prefilter import B64_TEXT, HEX_TEXT, compile_pass
from agent_security.egress.findings import ScanReport
from agent_security.egress.limits import Budget as _Budget
from agent_security.egress.testing import generate
from agent_security.egress.validators import CARD_BRANDS, card_brand, card_number_regex, luhn_valid

PRINTABLE = bytes([9, 10, 13, *range(0x20, 0x7F)])


def test_base64_trigger_classes_cover_every_printable_triple() -> None:
    group = re.compile(B64_TEXT[3 : B64_TEXT.index(")")])  # one 4-character group
    for a, b in itertools.product(PRINTABLE, repeat=2):
        for c in (9, 0x20, 0x41, 0x5F, 0x7E):
            assert group.fullmatch(base64.b64encode(bytes([a, b, c])).decode()), (a, b, c)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=11, max_size=200))
@settings(max_examples=200, deadline=None)
def test_base64_and_hex_of_text_always_trigger(text: str) -> None:
    raw = text.encode()
    for offset in range(3):  # any alignment inside a longer run
        assert re.search(B64_TEXT, "AAAA"[:offset] + base64.b64encode(raw).decode())
    assert re.search(HEX_TEXT, raw.hex())


def test_random_binary_rarely_triggers_a_decode() -> None:
    import random

    rng = random.Random(5)
    hits = sum(bool(re.search(B64_TEXT, base64.b64encode(rng.randbytes(30)).decode())) for _ in range(2000))
    assert hits < 100  # a few percent; the old anchor woke the decoder on every one


def test_card_anchor_is_the_brand_table() -> None:
    rx = re.compile(card_number_regex())
    for _brand, ranges, lengths in CARD_BRANDS:
        for lo, hi in ranges:
            for prefix in {lo, hi}:
                for n in lengths:
                    number = prefix + "0" * (n - len(prefix))
                    assert rx.fullmatch(number) and card_brand(number) is not None, number
    assert not rx.fullmatch("7" + "0" * 15)  # no brand starts with 7
    assert card_brand("1234567890123") is None


@pytest.mark.parametrize("brand_prefix", ["2200", "9792", "6062820", "8600", "357111", "506099"])
def test_brands_outside_the_big_four_are_found(brand_prefix: str) -> None:
    body = brand_prefix + "0" * (15 - len(brand_prefix))
    number = next(body[:-1] + str(d) + c for d in range(10) for c in "0123456789" if luhn_valid(body[:-1] + str(d) + c))
    assert [f.kind for f in scan(f"card {number}")] == ["credit_card"]


VALUES = st.one_of(
    st.sampled_from(
        [
            "hello world",
            "team@company.example",
            generate("github_token", 3),
            "card 4111 1111 1111 1111",
            "123-45-6789",
            "password=hunter22hunter",
            "call me at 415-555-0123",
            base64.b64encode(b"my email is jane.doe@mail.example.org").decode(),
        ]
    ),
    st.text(max_size=40),
    st.none(),
    st.booleans(),
)


@given(st.dictionaries(st.sampled_from(["to", "body", "ssn", "password", "phone", "x", "api_key", "note"]), VALUES))
@settings(max_examples=150, deadline=None)
def test_flat_fast_path_equals_the_general_walk(value: dict[str, Any]) -> None:
    sc = Scanner()
    fast = sc.scan(value)
    report = ScanReport()
    budget = _Budget(sc.limits, report)
    sc._walk(value, "$", None, 0, budget)
    assert fast.findings == report.findings
    assert fast.complete == report.complete


def test_bare_numbers_need_context_or_a_key() -> None:
    assert scan("order 123456789 shipped") == []
    assert [f.kind for f in scan("SSN: 123456789")] == ["ssn"]
    assert [f.kind for f in scan({"ssn": "123456789"})] == ["ssn"]
    assert [f.kind for f in scan("phone 4155550123")] == ["phone"]
    assert scan("ts 1700000000 id 4155550123") == []


def test_an_anchor_inside_a_context_gated_match_is_still_seen() -> None:
    text = "mobile, mail bob@corp.com or 4155550123"  # the email lies inside the gated phone match
    assert {f.kind for f in scan(text)} == {"email", "phone"}


def test_compile_pass_rejects_capturing_groups() -> None:
    from agent_security.core import ConfigurationError
    from agent_security.egress._speedups.prefilter import AnchorGroup

    with pytest.raises(ConfigurationError):
        compile_pass([("(a)b", AnchorGroup())])


def test_every_built_in_anchor_compiles_alone_without_a_capturing_group() -> None:
    """The built-in passes skip the per-anchor check a custom classifier gets (it costs a fresh process
    milliseconds): this holds every built-in anchor, decoder trigger and the gate to it instead."""
    from agent_security.egress._speedups.prefilter import DECODER_TRIGGERS, GATE, check_anchor
    from agent_security.egress.classifiers import DEFAULT_CLASSIFIERS

    anchors = {GATE, *(trigger for _, trigger in DECODER_TRIGGERS)}
    for c in DEFAULT_CLASSIFIERS:
        anchors |= {a for a in (c.anchor, c.keyed_anchor, c.context_anchor) if a}
    assert len(anchors) > 20
    for anchor in sorted(anchors):
        check_anchor(anchor)


GATE_VALUES = st.one_of(
    VALUES,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["4111 1111", " 1111 1111", "jane.doe@", "mail.example.org", "ghp_", "123456789", "0x41, 0x42"]),
)


@given(
    st.dictionaries(st.sampled_from(["to", "body", "ssn", "password", "phone", "x", "api_key", "n"]), GATE_VALUES),
    st.one_of(st.none(), VALUES.filter(lambda v: isinstance(v, str))),
)
@settings(max_examples=300, deadline=None)
def test_nothing_to_find_only_when_the_scans_find_nothing(value: dict[str, Any], text: str | None) -> None:
    """The enforcer's gate (``nothing_to_find``) answers True only when the arguments and the user input
    scan clean and complete; and for such simple values it does answer (the gate is not dead code)."""
    from agent_security.egress._speedups.flat import nothing_to_find

    sc = Scanner()
    reports = [sc.scan(value), *([sc.scan(text)] if text else [])]
    clean = all(not r.findings and r.complete for r in reports)
    if nothing_to_find(sc, value, text):
        assert clean
    assert nothing_to_find(sc, {"a": "hello", "b": 42, "c": None, "d": True}, "what is on page 3?")
    assert not nothing_to_find(sc, {"a": "hello"}, "mail jane@corp.example")


def test_nothing_to_find_sees_a_value_split_across_two_fields() -> None:
    from agent_security.egress._speedups.flat import nothing_to_find

    sc = Scanner()
    split = {"a": "card 4111 1111", "b": " 1111 1111"}
    assert [f.kind for f in sc.scan(split).findings] == ["credit_card"]
    assert not nothing_to_find(sc, split)


def test_no_built_in_anchor_asserts_the_start_or_end_of_the_text() -> None:
    """The gate joins several values with a separator: that is sound only while no anchor of the default
    pass can tell the start or end of the text from a non-word byte (only ``\\b`` edges are used)."""
    import re._constants as sre_constants
    import re._parser as sre_parse

    from agent_security.egress._speedups.prefilter import DECODER_TRIGGERS, GATE
    from agent_security.egress.classifiers import DEFAULT_CLASSIFIERS

    def edges(tree: Any, out: set[Any]) -> None:
        for op, av in tree:
            if op is sre_constants.AT:
                out.add(av)
            elif op is sre_constants.SUBPATTERN:
                edges(av[-1], out)
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                edges(av[2], out)
            elif op is sre_constants.BRANCH:
                for branch in av[1]:
                    edges(branch, out)

    found: set[Any] = set()
    for anchor in {GATE, *(t for _, t in DECODER_TRIGGERS), *(c.anchor for c in DEFAULT_CLASSIFIERS)}:
        edges(sre_parse.parse(anchor), found)
    assert found <= {sre_constants.AT_BOUNDARY, sre_constants.AT_NON_BOUNDARY}
