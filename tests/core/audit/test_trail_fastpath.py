"""The trail's field-by-field hash equals the reference canonical form, whatever ``data`` holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core.audit import AuditTrail, event_hash
from agent_security.core.models import AuditEvent, Outcome, Reason

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**50), max_value=2**50), st.text(max_size=10),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda c: st.one_of(st.lists(c, max_size=3), st.tuples(c, c), st.dictionaries(st.text(max_size=5), c, max_size=3)),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), json_values, max_size=4), text=st.text(max_size=20),
       outcome=st.sampled_from([None, *Outcome]))
def test_trail_hash_matches_reference(data: dict, text: str, outcome: Outcome | None) -> None:  # type: ignore[type-arg]
    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    ts = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    event = AuditEvent(timestamp=ts, agent_id=text, outcome=outcome, data=data,
                       reasons=(Reason(code=text, message=text),))
    chained = trail.record(event)
    assert chained.hash == event_hash(chained)
    assert chained.timestamp == ts.astimezone(UTC)
