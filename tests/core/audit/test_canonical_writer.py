"""The trail's canonical writer (``_speedups.audit_writer``, generated from the model's fields) writes exactly the
reference canonical bytes (RFC 8785 of the event's JSON form, ``chain.canonical_bytes``), whatever the
fields hold; a field added to the model is written with no other edit; and hashes are those of 0.1."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from agent_security.core import jcs
from agent_security.core._speedups import audit_writer as _writer
from agent_security.core.audit import AuditTrail, canonical_bytes, event_hash, verify_file
from agent_security.core.audit.chain import canonical_dict, format_timestamp, layout
from agent_security.core.models import SCHEMA_VERSION, AuditEvent, Outcome, Reason

_TRICKY = [
    "",
    "\x7f",
    "\u2028",
    "\u2029",
    '"',
    "\\",
    "\x00\x1f\b\f\n\r\t\x0b",
    "é\U0001f600\ufb01",
    "\ud800",
    "a\udfffb",
    "</script>",
    "\\u0000",
    "null",
    "{",
    "}}",
    "{x}",
]
text = st.text(alphabet=st.characters(exclude_categories=()), max_size=12) | st.sampled_from(_TRICKY)
plain = st.text(max_size=12)  # no lone surrogates (hypothesis leaves category Cs out by default)
optional = st.none() | text
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | plain
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda c: st.lists(c, max_size=3) | st.tuples(c, c) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=8,
)

events = st.builds(
    AuditEvent,
    schema_version=st.just(SCHEMA_VERSION) | text,
    event_id=text,
    sequence=st.integers(min_value=0, max_value=2**53 - 1),
    timestamp=st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=-3)))),
    kind=st.sampled_from(["decision", "resolution", "execution", "lifecycle", "alert", "error", "guardian.incident"]),
    request_id=optional,
    agent_id=optional,
    tool_name=optional,
    environment=optional,
    outcome=st.none() | st.sampled_from(Outcome),
    allowed=st.none() | st.booleans(),
    reasons=st.lists(st.builds(Reason, code=text, message=text), max_size=3).map(tuple),
    plugin_source=optional,
    mode=st.sampled_from(["enforce", "observe"]),
    request_hash=optional,
    data=st.dictionaries(plain, json_values, max_size=4),
)


def _reference(event: AuditEvent, prev_hash: str, sequence: int) -> bytes | None:
    try:
        return rfc8785.dumps(canonical_dict(event.model_copy(update={"prev_hash": prev_hash, "sequence": sequence})))
    except Exception:  # RFC 8785 cannot represent it (a lone surrogate, ...)
        return None


def _written(event: AuditEvent, prev_hash: str, sequence: int) -> bytes | None:
    try:
        return _writer.chained_bytes(_writer.prepare(event), prev_hash, sequence)
    except Exception:
        return None


def _fast(event: AuditEvent, prev_hash: str, sequence: int) -> bytes | None:
    """The generated writer alone (None where it hands over to the reference form)."""
    write = _writer._writer(AuditEvent)
    assert write is not None
    try:
        return _writer.chained_bytes(_writer._prepare_fast(event, write), prev_hash, sequence)
    except Exception:
        return None


@settings(max_examples=400, deadline=None)
@given(events, plain, st.integers(min_value=0, max_value=2**53 - 1))
def test_writer_matches_rfc8785_reference(event: AuditEvent, prev_hash: str, sequence: int) -> None:
    expected = _reference(event, prev_hash, sequence)
    assert _written(event, prev_hash, sequence) == expected  # byte for byte, or both refuse
    fast = _fast(event, prev_hash, sequence)
    assert fast is None or fast == expected  # the generated writer never writes other bytes


@settings(max_examples=200, deadline=None)
@given(events.filter(lambda e: not any(isinstance(v, float) for v in json.loads(json.dumps(e.data)).values())))
def test_plain_events_take_the_generated_writer(event: AuditEvent) -> None:
    """An event whose data has ASCII keys and no floats, and whose strings UTF-8 can encode, is written by
    the generated writer (the reference form is the exception, not the rule)."""
    try:
        jcs.prepare(event.data)
        canonical_bytes(event)
    except Exception:
        return
    assert _fast(event, "h", 1) == _reference(event, "h", 1)


class _Formatted(str):
    def __format__(self, spec: str) -> str:
        return "changed"


_STRING_FIELDS = (
    "schema_version",
    "event_id",
    "kind",
    "request_id",
    "agent_id",
    "tool_name",
    "environment",
    "plugin_source",
    "mode",
    "request_hash",
)


@settings(max_examples=300, deadline=None)
@given(events, st.sampled_from(_STRING_FIELDS), text | st.builds(_Formatted, text) | st.sampled_from([1, True, 2.5]))
def test_odd_values_in_any_field(event: AuditEvent, field: str, odd: Any) -> None:
    """A str subclass, a value of the wrong type or a hostile string in any one field: the bytes are the
    reference bytes, or both refuse."""
    candidate = AuditEvent.model_construct(**{**event.__dict__, field: odd})
    expected = _reference(candidate, "h", 2)
    got = _written(candidate, "h", 2)
    if expected is None:
        assert got is None
    else:
        assert got == expected


def test_values_of_the_wrong_type_take_the_reference_form() -> None:
    build = AuditEvent.model_construct
    for odd in (
        {"allowed": 1},
        {"reasons": [Reason(code="c")]},
        {"outcome": "ALLOW"},
        {"data": {"f": 0.5}},
        {"data": {"é": 1}},
        {"timestamp": datetime(2026, 1, 1)},
    ):
        event = build(**{**AuditEvent().__dict__, **odd})
        assert _written(event, "h", 3) == _reference(event, "h", 3), odd
    with pytest.raises(ValueError):
        _writer.chained_bytes(_writer.prepare(AuditEvent()), "h", 2**53)


def test_trail_hash_is_the_reference_hash_and_data_its_json_form() -> None:
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    local = datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    for data in (
        {"phase": "decided", "labels": ("PII",), "plugins": {"z": {"n": 1}, "a": (True, None)}},
        {"score": 0.25, "when": datetime(2026, 1, 1, tzinfo=UTC), "ü": (1,)},
    ):
        chained = trail.record(AuditEvent(timestamp=local, data=data))
        assert chained.hash == event_hash(chained)
        assert chained.timestamp == datetime(2026, 1, 1, 12, tzinfo=UTC)
        assert json.loads(json.dumps(chained.data)) == chained.data  # plain JSON: tuples are lists
        back = AuditEvent.model_validate_json(chained.model_dump_json())
        assert event_hash(back) == chained.hash
    assert out[0].data["plugins"] == {"a": [True, None], "z": {"n": 1}}


# -- the form is derived from the model ----------------------------------------------------------


class _Extended(AuditEvent):
    """An event model with fields the writer was not written for."""

    priority: int | None = None
    tags: tuple[str, ...] = ()
    zone: Outcome | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    reviewed: datetime | None = None
    ratio: float | None = None


@settings(max_examples=150, deadline=None)
@given(
    events,
    st.none() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.lists(plain, max_size=3),
    st.none() | st.sampled_from(Outcome),
    st.dictionaries(plain, json_values, max_size=3),
    st.none() | st.datetimes(timezones=st.just(UTC)),
    st.none() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_a_field_added_to_the_model_is_written_with_no_other_edit(
    event: AuditEvent,
    priority: int | None,
    tags: list[str],
    zone: Outcome | None,
    attributes: dict[str, Any],
    reviewed: datetime | None,
    ratio: float | None,
) -> None:
    extended = _Extended(
        **event.__dict__,
        priority=priority,
        tags=tuple(tags),
        zone=zone,
        attributes=attributes,
        reviewed=reviewed,
        ratio=ratio,
    )
    expected = _reference(extended, "h", 5)
    assert _written(extended, "h", 5) == expected
    if expected is not None:
        members = json.loads(expected)
        assert set(members) == set(_Extended.model_fields) - {"hash"}
        if reviewed is not None:
            assert members["reviewed"] == format_timestamp(reviewed)
    out: list[_Extended] = []
    trail = AuditTrail(out.append)  # type: ignore[arg-type]
    if expected is not None:
        chained = trail.record(extended)
        assert isinstance(chained, _Extended) and chained.hash == event_hash(chained)


def test_every_model_field_is_in_the_canonical_form() -> None:
    assert set(layout(AuditEvent).members) == set(AuditEvent.model_fields) - {"hash"}
    assert layout(AuditEvent).datetimes == ("timestamp",) and layout(AuditEvent).open_json == ("data",)
    members = json.loads(canonical_bytes(AuditEvent()))
    assert set(members) == set(AuditEvent.model_fields) - {"hash"}


# -- timestamps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ts",
    [
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
    ],
)
def test_timestamp_cache_at_second_and_calendar_edges(ts: datetime) -> None:
    expected = '"' + ts.replace(tzinfo=None).isoformat(timespec="microseconds") + 'Z"'
    assert _writer._timestamp(ts) == expected
    assert _writer._timestamp(ts) == expected  # from the cache this time


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=999_999))
def test_timestamp_text_of_every_microsecond(ts: datetime, micro: int) -> None:
    for when in (ts, ts.replace(microsecond=micro), ts):
        assert _writer._timestamp(when) == f'"{format_timestamp(when)}"'
        assert format_timestamp(when) == when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@settings(max_examples=300, deadline=None)
@given(text)
def test_string_encoder_is_rfc8785(value: str) -> None:
    try:
        expected: bytes | None = rfc8785.dumps(value)
    except Exception:
        expected = None
    try:
        got: bytes | None = jcs.encode_string(value).encode()
    except UnicodeEncodeError:
        got = None
    assert got == expected


# -- golden: the hashes of 0.1 -------------------------------------------------------------------------

_BASE: dict[str, Any] = {
    "event_id": "00000000-0000-8000-8000-000000000001",
    "request_id": "req-1",
    "agent_id": "agent-1",
    "tool_name": "query_database",
    "environment": "prod",
    "outcome": Outcome.ALLOW,
    "allowed": True,
    "reasons": (Reason(code="ALLOW_X", message='allowed "by" rule\n'),),
    "request_hash": "ab" * 32,
    "timestamp": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
}
GOLDEN = [  # (event, its hash as 0.1 computed it, chained from the genesis in this order)
    (
        AuditEvent(**_BASE, data={"phase": "decide", "action_type": "tool_call", "session_id": "s1"}),
        "1d83014b5e645b817cd3d8b9b3e59095cfbd4d5d09e5d32e89eac3b7d426a187",
    ),
    (
        AuditEvent(
            **{
                **_BASE,
                "event_id": "e2",
                "timestamp": datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            },
            data={"f": 1.5, "t": (1, "é\U0001f600"), "d": datetime(2026, 1, 1, tzinfo=UTC), "ü": None},
        ),
        "fb9558a066ceba9954c868ce0a53912b053169f045ab03d8cd3b8e7dfc18c5c1",
    ),
    (
        AuditEvent(
            event_id="e3",
            kind="guardian.incident",
            timestamp=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
            data={"nested": {"b": [True, False, None], "a": -(2**53) + 1}},
            plugin_source="guardian",
            mode="observe",
        ),
        "d9477ecbe59b5a54a49f72d4e909a760d162839c08d3d68d3b4e97a6703104e8",
    ),
    (
        AuditEvent(event_id="e4", kind="lifecycle", timestamp=datetime(2026, 1, 2, 3, 4, 7, tzinfo=UTC), data={}),
        "0488a379953a5c797f12e8aab1b9cbf868b965faf998d0c857576fa616b367f1",
    ),
]
DATA = Path(__file__).parent / "data"


def test_golden_hashes_are_those_of_0_1() -> None:
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    for event, _ in GOLDEN:
        trail.record(event)
    assert [e.hash for e in out] == [h for _, h in GOLDEN]
    assert [hashlib.sha256(canonical_bytes(e)).hexdigest() for e in out] == [h for _, h in GOLDEN]


def test_a_trail_written_by_0_1_still_verifies() -> None:
    """``trail-v0.1.jsonl``: the GOLDEN events and two signed checkpoints, written by 0.1's sink."""
    report = verify_file(DATA / "trail-v0.1.jsonl", [DATA / "trail-v0.1.pub.pem"])
    assert report.ok and report.events == 6 and report.verified_checkpoints == 2
    lines = (DATA / "trail-v0.1.jsonl").read_text().splitlines()
    assert [json.loads(lines[i])["hash"] for i in (0, 1)] == [GOLDEN[0][1], GOLDEN[1][1]]
