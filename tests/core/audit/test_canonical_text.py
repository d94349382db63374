"""The trail's direct canonical writer (``chain.canonical_text``) writes exactly the reference canonical
bytes (``canonical_bytes``: RFC 8785 of the event's JSON form), whatever the strings hold: quotes,
backslashes, control characters, U+007F, U+2028, astral characters, lone surrogates (which RFC 8785 cannot
represent: the writer's bytes then fail to encode, as the reference fails)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import jcs
from agent_security.core.audit import AuditTrail, canonical_bytes, event_hash
from agent_security.core.audit.chain import canonical_text, format_timestamp
from agent_security.core.models import SCHEMA_VERSION, AuditEvent, Outcome, Reason, new_id

_TRICKY = ["", "\x7f", "\u2028", "\u2029", '"', "\\", "\x00\x1f\b\f\n\r\t\x0b", "é\U0001f600\ufb01", "\ud800",
           "a\udfffb", "</script>", "\\u0000", "null"]
text = st.text(alphabet=st.characters(exclude_categories=()), max_size=12) | st.sampled_from(_TRICKY)
plain = st.text(max_size=12)  # no lone surrogates (hypothesis leaves category Cs out by default)
optional = st.none() | text
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | plain,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8)

events = st.builds(
    AuditEvent,
    schema_version=st.just(SCHEMA_VERSION) | text, event_id=text,
    sequence=st.integers(min_value=0, max_value=2**53 - 1),
    timestamp=st.datetimes(timezones=st.just(UTC)),
    kind=st.sampled_from(["decision", "resolution", "execution", "lifecycle", "alert", "error"]),
    request_id=optional, agent_id=optional, tool_name=optional, environment=optional,
    outcome=st.none() | st.sampled_from(Outcome), allowed=st.none() | st.booleans(),
    reasons=st.lists(st.builds(Reason, code=text, message=text), max_size=3).map(tuple),
    plugin_source=optional, mode=st.sampled_from(["enforce", "observe"]), request_hash=optional,
    data=st.dictionaries(plain, json_values, max_size=4), prev_hash=text)


def _reference(event: AuditEvent) -> bytes | None:
    try:
        return canonical_bytes(event)
    except Exception:  # RFC 8785 cannot represent it (a lone surrogate)
        return None


def _direct(event: AuditEvent) -> bytes | None:
    """What the trail's fast path hashes, or None when it hands over to the reference path."""
    try:
        return canonical_text(
            event.__dict__, event.sequence, jcs.encode_string(str(event.prev_hash)),
            jcs.encode_string(format_timestamp(event.timestamp)), jcs.write(jcs.prepare(event.data)).decode(),
        ).encode()
    except Exception:
        return None


@settings(max_examples=400, deadline=None)
@given(events)
def test_direct_writer_matches_canonical_bytes(event: AuditEvent) -> None:
    expected, got = _reference(event), _direct(event)
    if expected is None:
        assert got is None  # a lone surrogate: neither can write it
        return
    try:
        jcs.prepare(event.data)
    except jcs.NotFast:  # a non-ASCII key: the trail takes the dict path (next test)
        return
    assert got == expected  # byte for byte


@settings(max_examples=150, deadline=None)
@given(events, plain)
def test_trail_fast_path_hash_equals_event_hash(event: AuditEvent, last_hash: str) -> None:
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append, last_sequence=1, last_hash=last_hash or "h")
    if _reference(event.model_copy(update={"prev_hash": last_hash or "h", "sequence": 2})) is None:
        with pytest.raises(Exception):  # noqa: B017 - the reference refuses it, so does the trail
            trail.record(event)
        return
    chained = trail.record(event)
    assert chained.hash == event_hash(chained) and chained.prev_hash == (last_hash or "h")
    again = trail.record_values(dict(event.__dict__), set(AuditEvent.model_fields))
    assert again.hash == event_hash(again) and again.prev_hash == chained.hash
    assert out == [chained, again]


_STRING_FIELDS = ("schema_version", "event_id", "kind", "request_id", "agent_id", "tool_name", "environment",
                  "plugin_source", "mode", "request_hash")
# Strings that need no escaping (what the single check lets through), astral characters included.
clean = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='"\\'), max_size=12)


class _Formatted(str):
    def __format__(self, spec: str) -> str:
        return "changed"


@settings(max_examples=400, deadline=None)
@given(events, st.dictionaries(st.sampled_from(_STRING_FIELDS), clean, min_size=len(_STRING_FIELDS)),
       st.sampled_from((None, *_STRING_FIELDS)), text | st.builds(_Formatted, text))
def test_single_check_over_every_string_field(event: AuditEvent, plain_fields: dict[str, str], field: str | None,
                                              odd: str) -> None:
    """Every string field plain but at most one (``field``): a quote, backslash, control character, lone
    surrogate or a str subclass in any one of them takes the escaping writer, and the bytes stay the
    reference bytes whichever writer wrote them."""
    fields: dict[str, Any] = dict(plain_fields)
    if field is not None:
        fields[field] = odd
    candidate = AuditEvent.model_construct(**{**event.__dict__, **fields})
    expected, got = _reference(candidate), _direct(candidate)
    if expected is None:
        assert got is None
        return
    try:
        jcs.prepare(event.data)
    except jcs.NotFast:  # a non-ASCII data key: the trail takes the dict path
        return
    assert got == expected


def test_plain_strings_are_checked_once_not_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core.audit import chain

    calls: list[str] = []

    def counting(value: str) -> str:
        calls.append(value)
        return jcs.encode_string(value)

    monkeypatch.setattr(chain, "_encode", counting)
    event = AuditEvent(kind="decision", request_id=new_id(), agent_id="agent-😀", tool_name="read_file",
                       environment="prod", plugin_source="p", request_hash="ab" * 32, data={"k": "v"})
    got = canonical_text(event.__dict__, event.sequence, '"h"', jcs.encode_string(format_timestamp(event.timestamp)),
                         '{"k":"v"}')
    assert calls == [] and got.encode() == canonical_bytes(event.model_copy(update={"prev_hash": "h"}))
    escaped = event.model_copy(update={"environment": 'pr"od'})
    got = canonical_text(escaped.__dict__, escaped.sequence, '"h"',
                         jcs.encode_string(format_timestamp(escaped.timestamp)), '{"k":"v"}')
    assert 'pr"od' in calls and got.encode() == canonical_bytes(escaped.model_copy(update={"prev_hash": "h"}))


def test_the_pipeline_event_takes_the_direct_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("took the dict path")

    monkeypatch.setattr(AuditTrail, "_link_dict", staticmethod(refuse))
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    values = {
        "schema_version": SCHEMA_VERSION, "event_id": new_id(), "sequence": 0,
        "timestamp": datetime(2026, 11, 24, 9, 30, 0, 5, tzinfo=UTC), "kind": "decision", "request_id": new_id(),
        "agent_id": "agent-1", "tool_name": "read_file", "environment": "prod", "outcome": Outcome.DENY,
        "allowed": False, "reasons": (Reason(code="R1", message='no "quotes"\n'), Reason(code="R2")),
        "plugin_source": None, "mode": "enforce", "request_hash": "ab" * 32,
        "data": {"phase": "decided", "labels": ["PII"], "plugins": {"z": {"n": 1}, "a": (True, None)}},
        "prev_hash": None, "hash": None,
    }
    event = trail.record_values(values, set(AuditEvent.model_fields))
    assert event.hash == event_hash(event)
    assert list(event.data) == ["labels", "phase", "plugins"]
    assert event.data["plugins"] == {"a": [True, None], "z": {"n": 1}}
    # A non-UTC timestamp is converted, then written directly too.
    local = trail.record(AuditEvent(timestamp=datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))))
    assert local.hash == event_hash(local) and local.timestamp == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_values_the_direct_writer_hands_over() -> None:
    """Floats, subclasses of str and odd values are left to the dict path (same hash either way)."""

    class Text(str):
        def __format__(self, spec: str) -> str:
            return "changed"

    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    build = AuditEvent.model_construct  # keeps the subclasses a validating constructor would convert
    for event in (AuditEvent(data={"score": 0.5}), build(event_id=Text("e"), request_id=Text("r"), request_hash="h"),
                  build(agent_id=Text("a"), data={"k": Text("v")})):
        chained = trail.record(event)
        assert chained.hash == event_hash(chained)
    # Values a validated event cannot hold, that the writer refuses rather than guess.
    for odd in ({"allowed": 1}, {"reasons": [Reason(code="c")]}, {"outcome": "ALLOW"}):
        values = {**AuditEvent().__dict__, **odd}
        with pytest.raises(jcs.NotFast):
            canonical_text(values, 1, '"h"', '"t"', "{}")
    with pytest.raises(jcs.NotFast):
        canonical_text(AuditEvent().__dict__, 2**53, '"h"', '"t"', "{}")


@pytest.mark.parametrize("ts", [
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),
])
def test_timestamp_cache_at_second_and_calendar_edges(ts: datetime) -> None:
    assert format_timestamp(ts) == ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    assert format_timestamp(ts) == format_timestamp(ts)  # from the cache this time


@settings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=999_999))
def test_timestamp_text_of_every_microsecond(ts: datetime, micro: int) -> None:
    """The cached second plus the microseconds written from a table: ``isoformat`` for any instant, whether
    the second is already cached (the neighbour in the same second) or not."""
    for when in (ts, ts.replace(microsecond=micro), ts):
        assert format_timestamp(when) == when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@settings(max_examples=500, deadline=None)
@given(text)
def test_string_encoder_is_rfc8785(value: str) -> None:
    import rfc8785

    try:
        expected: bytes | None = rfc8785.dumps(value)
    except Exception:
        expected = None
    try:
        got: bytes | None = jcs.encode_string(value).encode()
    except UnicodeEncodeError:
        got = None
    assert got == expected
