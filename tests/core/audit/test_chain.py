from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.audit import GENESIS_HASH, AuditTrail, canonical_bytes, event_hash
from agent_security.core.audit.chain import canonical_dict, format_timestamp
from agent_security.core.jcs import dumps as to_canonical_json
from agent_security.core.models import AuditEvent


def test_canonical_form_matches_an_independent_encoding():
    ev = AuditEvent(
        event_id="e1",
        sequence=7,
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        agent_id="a",
        tool_name="t",
        data={"z": 1, "a": ["x", 2]},
        prev_hash="p",
        hash="ignored",
    )
    expected = ev.model_dump(mode="json", exclude={"hash"})
    expected["timestamp"] = "2026-01-02T03:04:05.000000Z"
    independent = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_bytes(ev) == independent
    assert event_hash(ev) == hashlib.sha256(independent).hexdigest()
    assert b'"hash"' not in canonical_bytes(ev)


def test_hash_ignores_the_hash_field_and_covers_everything_else():
    ev = AuditEvent(event_id="e1")
    assert event_hash(ev) == event_hash(ev.model_copy(update={"hash": "x"}))
    for change in (
        {"sequence": 2},
        {"prev_hash": "q"},
        {"agent_id": "b"},
        {"data": {"k": 1}},
        {"timestamp": ev.timestamp + timedelta(microseconds=1)},
    ):
        assert event_hash(ev.model_copy(update=change)) != event_hash(ev)


def test_timestamp_is_normalised_to_utc_microseconds():
    plus2 = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 1, 1, 14, 0, tzinfo=plus2)) == "2026-01-01T12:00:00.000000Z"
    assert format_timestamp(datetime(2026, 1, 1, 12, 0)) == "2026-01-01T12:00:00.000000Z"
    a = AuditEvent(event_id="e", timestamp=datetime(2026, 1, 1, 14, 0, tzinfo=plus2))
    b = AuditEvent(event_id="e", timestamp=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert canonical_dict(a)["timestamp"] == canonical_dict(b)["timestamp"]


def test_chained_event_round_trips_through_json(make_event):
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    for ev in (
        make_event(),
        make_event(data={"t": (1, 2), "d": datetime(2026, 1, 1, tzinfo=UTC)}),
        make_event(timestamp=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))),
    ):
        trail.record(ev)
    for ev in out:
        back = AuditEvent.model_validate_json(ev.model_dump_json())
        assert event_hash(back) == ev.hash
        back2 = AuditEvent.model_validate(json.loads(ev.model_dump_json()))
        assert event_hash(back2) == ev.hash
    assert out[0].prev_hash == GENESIS_HASH and GENESIS_HASH == "0" * 64


# -- the fast encoder is byte-identical to the RFC 8785 reference ----------------------------------------
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def _encode(fn, value):
    try:
        return fn(value)
    except Exception as exc:
        return type(exc).__mro__[-2]  # "it raised" (the exact class may differ)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_fast_encoder_matches_rfc8785(value):
    expected = _encode(rfc8785.dumps, value)
    got = _encode(to_canonical_json, value)
    if isinstance(expected, bytes):
        assert got == expected
    else:
        assert not isinstance(got, bytes)


def test_fast_encoder_edge_cases():
    for value in (
        {"\U0001f600": 1, "\ufb01": 2},
        {"a": '\u2028\x7f\x00"\\'},
        {"n": 2**53 - 1},
        ["\ud800"],
        {"b": 1, "a": [True, None]},
    ):
        try:
            ref = rfc8785.dumps(value)
        except Exception:
            continue
        assert to_canonical_json(value) == ref


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(), _json, max_size=4), st.text(), st.integers(min_value=0, max_value=2**62))
def test_event_canonical_bytes_match_rfc8785(data, agent, sequence):
    ev = AuditEvent(event_id="e", agent_id=agent, sequence=sequence, data=data)
    expected = _encode(lambda d: rfc8785.dumps(d), canonical_dict(ev))
    got = _encode(canonical_bytes, ev)
    if isinstance(expected, bytes):
        assert got == expected
    else:
        assert not isinstance(got, bytes)
