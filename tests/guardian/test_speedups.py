"""The guardian's speed code (:mod:`agent_security.guardian._speedups`) equals its reference: random event
streams analysed by the fast path and by ``GuardianAgent._observe_event`` alone give the same incidents,
event by event, and leave the same detection state, incident book and store. The streams cross every
edge the fast path must leave to the reference: new agents and tools, evictions, bucket and interval
ends, late events, long silences, thresholds and learned limits, sequences, the allowed hours, denials,
the kill switch's own denials, and the state writes' cadence."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import AuditEvent, MemoryStore, Outcome, Reason
from agent_security.core.testing import FakeClock
from agent_security.guardian import GuardianAgent, GuardianConfig
from agent_security.guardian._speedups import same_quotient

T0 = datetime(2026, 6, 1, 6, 58, tzinfo=UTC)  # 07:58 in London: the allowed hours start within the stream
CONFIG = GuardianConfig(
    mode="monitor",
    frequency_threshold=5,
    volume_threshold=8,
    window_s=20,
    baseline={"interval_s": 7, "warmup_intervals": 2, "min_count": 2, "z": 1.0, "alpha": 0.5},
    suspicious_sequences=(("a", "b"), ("pay", "pay"), ("c", "*", "d")),
    sequence_window_s=40,
    allowed_hours={"start": 8, "end": 18},
    timezone="Europe/London",
    first_use_after_s=30,
    denial_burst_threshold=2,
    denial_burst_window_s=10,
    cooldown_s=25,
    auto_kill_threshold=3,
    max_agents=3,
    max_tools_per_agent=3,
    sync_interval_s=15,
)
STEPS = (0.0, 0.01, 0.4, 1.25, 2.5, 7.0, 13.0, 61.0, 900.0, -3.0)
KINDS = ("call", "call", "call", "call", "denied", "killed", "resolution_denied", "execution")


def _event(i: int, at: datetime, agent: str, tool: str, kind: str) -> AuditEvent:
    reasons: tuple[Reason, ...] = ()
    outcome, event_kind = Outcome.ALLOW, "decision"
    if kind == "denied":
        outcome, reasons = Outcome.DENY, (Reason(code="POLICY_RULE", message="no"),)
    elif kind == "killed":
        outcome, reasons = Outcome.DENY, (Reason(code="AGENT_KILL_SWITCH", message="killed"),)
    elif kind == "resolution_denied":
        outcome, event_kind = Outcome.DENY, "resolution"
    elif kind == "execution":
        event_kind = "execution"
    return AuditEvent(
        event_id=f"e{i}", kind=event_kind, agent_id=agent, tool_name=tool, outcome=outcome, reasons=reasons,
        timestamp=at,
    )  # fmt: skip


def _guardian(config: GuardianConfig, *, reference: bool) -> GuardianAgent:
    g = GuardianAgent(config, store=MemoryStore(clock=FakeClock(T0)), guardian_id="g")
    if reference:
        g._analyse = g._observe_event
    return g


class Seen:
    """A guardian's incidents with their random ids replaced by the order they were opened in."""

    def __init__(self, guardian: GuardianAgent) -> None:
        self.guardian = guardian
        self.ids: dict[str, str] = {}

    def __call__(self, incidents: list[Any]) -> list[tuple[Any, ...]]:
        for i in self.guardian.incidents():
            self.ids.setdefault(i.incident_id, f"incident-{len(self.ids)}")
        return [
            (i.type, i.subject, i.severity, i.description, self._plain(i.details), self._plain(i.evidence),
             i.action_taken)
            for i in incidents
        ]  # fmt: skip

    def _plain(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [self._plain(v) for v in value]
        return self.ids.get(value, value) if isinstance(value, str) else value


def _state(g: GuardianAgent) -> dict[str, Any]:
    det = g._detectors
    return {
        "agents": {a: s.dump(det.sequences) for a, s in det.agents.items()},
        "changed": {a: s.changed for a, s in det.agents.items()},
        "uses": sorted(det.uses),
        "next_due": det.next_due,
        "next_sweep": g.next_sweep,
        "open": {k: (o.repeats, o.evidence, o.last_seen) for k, o in g._book.open.items()},
        "store": g.store.scan("guardian:"),
    }


stream = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.sampled_from(("a", "b", "c", "d", "pay", "x")),
        st.sampled_from(STEPS),
        st.sampled_from(KINDS),
    ),
    min_size=1,
    max_size=120,
)


def _run(calls: list[tuple[int, str, float, str]], config: GuardianConfig) -> None:
    fast, ref = _guardian(config, reference=False), _guardian(config, reference=True)
    seen_fast, seen_ref = Seen(fast), Seen(ref)
    at = T0
    for i, (agent, tool, step, kind) in enumerate(calls):
        at += timedelta(seconds=step)
        event = _event(i, at, f"agent-{agent}", tool, kind)
        assert seen_fast(fast.process_event(event)) == seen_ref(ref.process_event(event)), f"event {i}"
        assert _state(fast) == _state(ref), f"after event {i}"
    fast.flush()
    ref.flush()
    assert _state(fast) == _state(ref)


@settings(max_examples=300, deadline=None)
@given(stream)
def test_the_fast_path_equals_the_reference(calls: list[tuple[int, str, float, str]]) -> None:
    _run(calls, CONFIG)


@settings(max_examples=100, deadline=None)
@given(stream)
def test_the_fast_path_equals_the_reference_without_thresholds_baseline_or_hours(
    calls: list[tuple[int, str, float, str]],
) -> None:
    quiet = CONFIG.with_overrides(
        frequency_threshold=0, volume_threshold=0, baseline={"enabled": False}, allowed_hours=None, sync_interval_s=0
    )
    _run(calls, quiet)


def test_the_usual_call_takes_the_fast_path() -> None:
    """Not a speed test: the stream a benchmark prices does reach the fast path (the reference is not
    called), so the equivalence above is about the code that runs."""
    g = _guardian(CONFIG.with_overrides(allowed_hours=None, frequency_threshold=0, volume_threshold=0), reference=False)
    calls: list[str] = []
    observe = g._observe_locked

    def counted(*args: Any) -> Any:
        calls.append("reference")
        return observe(*args)

    g._analyse.__self__.observe_locked = counted  # type: ignore[attr-defined]
    for i in range(40):
        g.process_event(_event(i, T0 + timedelta(seconds=i / 10), "agent-0", "x", "call"))
    assert 0 < len(calls) < 10


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**40), st.sampled_from((0.1, 0.3, 1.25, 3.75, 7.0, 60.0, 86_400.0 / 7)))
def test_same_quotient_is_exactly_the_floats_of_one_quotient(n: int, width: float) -> None:
    lo, hi = same_quotient(n, width)
    assert int(lo / width) == n and int(math.nextafter(hi, -math.inf) / width) == n
    assert int(hi / width) == n + 1
    assert lo == 0 or int(math.nextafter(lo, -math.inf) / width) == n - 1
