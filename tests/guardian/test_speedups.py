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

from agent_security.core import AgentSecurity, AuditEvent, MemoryStore, Outcome, Reason
from agent_security.core.builtin import kill_switch
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


def _assert_uses_index_memory(g: GuardianAgent) -> None:
    """Each (agent, tool) a call finds with one lookup is the agent's state in memory and its rate for the
    tool; an agent or tool evicted from memory is no longer found."""
    det = g._detectors
    for (agent, tool), use in det.uses.items():
        assert det.agents[agent] is use.state and use.state.pairs[tool] is use.rate and use.tool == tool
        assert use.sequences == det.sequences.relevant(tool)


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
        _assert_uses_index_memory(fast)
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


# -- the behaviours the fast path carries, through a real AgentSecurity ---------------------------------

POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""


class Counted:
    """Counts the events a guardian leaves to the reference analysis."""

    def __init__(self, g: GuardianAgent) -> None:
        self.reference = 0
        analysis = g._analyse.__self__  # type: ignore[attr-defined]
        observe = analysis.observe_locked

        def counted(*args: Any) -> Any:
            self.reference += 1
            return observe(*args)

        analysis.observe_locked = counted


def _security(config: GuardianConfig) -> tuple[AgentSecurity, GuardianAgent, FakeClock, Counted]:
    clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    g = GuardianAgent(config)
    store = MemoryStore(clock=clock)
    security = AgentSecurity(policy_json=POLICY, autoload=False, plugins=[kill_switch(), g], clock=clock, store=store)
    return security, g, clock, Counted(g)


SEQUENCES = GuardianConfig(
    mode="block",
    suspicious_sequences=(("read_secrets", "http_request"), ("query_db", "send_email")),
    sequence_window_s=600,
    cooldown_s=300,
    auto_kill_threshold=2,
    first_use=False,
    denial_burst_threshold=0,
    baseline={"enabled": False, "interval_s": 86_400},
)


def test_sequences_dedup_hysteresis_and_the_kill_at_the_threshold_on_the_fast_path() -> None:
    security, g, clock, counted = _security(SEQUENCES)

    def call(tool: str, step: float = 1.0) -> Any:
        clock.advance(step)
        return security.check_tool_call(tool_name=tool, agent_id="bot", environment="prod")

    for tool in ("read_secrets", "http_request", "query_db", "send_email", "noop"):
        call(tool)  # every tool known: from here on the usual call is taken on the fast path
    assert [i.type.value for i in g.incidents()] == ["suspicious_sequence", "suspicious_sequence", "auto_kill"]
    assert g.is_killed("bot") and not call("noop").allowed
    g.revive("bot")
    before = counted.reference
    call("read_secrets", 1000)
    call("http_request")  # quiet for longer than the cooldown: closed, and a new one opens
    call("read_secrets")
    call("http_request")  # within the cooldown: the same incident, one more repeat
    assert counted.reference - before <= 1  # the completing calls went through the fast path
    assert [i.type.value for i in g.incidents()][3:] == ["suspicious_sequence"]
    [open_incident] = g.open_incidents("bot")
    assert open_incident.subject == "read_secrets > http_request" and not g.is_killed("bot")
    closed = [e.data for e in security.get_audit_log() if e.kind == "guardian.incident_closed"]
    assert {c["subject"] for c in closed} >= {"read_secrets > http_request"}
    call("query_db")
    call("send_email")  # the second incident since the revival: killed again
    assert g.is_killed("bot") and not call("noop").allowed


def test_state_reaches_the_store_at_its_cadence_from_the_fast_path() -> None:
    config = CONFIG.with_overrides(
        allowed_hours=None,
        frequency_threshold=0,
        volume_threshold=0,
        sync_interval_s=30,
        window_s=3600,
        baseline={"interval_s": 3600},
    )
    security, g, clock, counted = _security(config)
    store = g.store

    def stored() -> int:
        state = store.get("guardian:state:bot")
        return 0 if state is None else sum(state["tools"]["t"][1])

    def call(step: float) -> None:
        clock.advance(step)
        security.check_tool_call(tool_name="t", agent_id="bot", environment="prod")

    call(0)
    assert stored() == 1  # a new agent and tool: at once
    for _ in range(5):
        call(1)
    assert stored() == 1 and counted.reference == 1  # counted on the fast path, not written yet
    call(26)  # 30 s after the first unwritten change (t=1): written, this call included
    assert stored() == 7
    security.shutdown()
    assert stored() == 7
