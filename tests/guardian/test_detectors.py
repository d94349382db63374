"""Each detector on hand-made audit events: what it reports, and what it must not report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_security.core import AuditEvent, MemoryStore, Outcome, Reason
from agent_security.guardian import AllowedHours, GuardianAgent, GuardianConfig

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
QUIET = {"denial_burst_threshold": 0, "first_use": False, "baseline": {"enabled": False}}


def guardian(**cfg: object) -> GuardianAgent:
    return GuardianAgent(GuardianConfig.model_validate({**QUIET, **cfg}), store=MemoryStore())


def event(
    tool: str = "t", at: float = 0.0, agent: str = "a", outcome: Outcome = Outcome.ALLOW, **kw: object
) -> AuditEvent:
    return AuditEvent(
        kind=kw.pop("kind", "decision"),  # type: ignore[arg-type]
        agent_id=agent,
        tool_name=tool,
        outcome=outcome,
        timestamp=T0 + timedelta(seconds=at),
        **kw,  # type: ignore[arg-type]
    )


def types(g: GuardianAgent, agent: str | None = None) -> list[str]:
    return [i.type.value for i in g.incidents(agent)]


def test_frequency_counts_one_tool_and_volume_every_tool() -> None:
    g = guardian(frequency_threshold=3, volume_threshold=5, window_s=60)
    for i, tool in enumerate(["x", "y", "x", "y", "x"]):
        assert g.process_event(event(tool, i)) == []
    freq, vol = g.process_event(event("x", 5))  # the 4th x (over 3), the 6th call (over 5)
    assert freq.type.value == "frequency_spike" and freq.subject == "x" and freq.details["count"] == 4
    assert vol.type.value == "volume_spike" and vol.subject == "" and vol.details["count"] == 6
    assert g.process_event(event("y", 6)) == []  # y: 3 calls; the volume incident is already open


def test_volume_spike_across_tools() -> None:
    g = guardian(volume_threshold=5)
    found = [g.process_event(event(f"tool-{i}", i)) for i in range(6)]
    assert [len(f) for f in found] == [0, 0, 0, 0, 0, 1]
    spike = found[-1][0]
    assert spike.type.value == "volume_spike" and spike.details["count"] == 6 and len(spike.evidence) == 6


def test_the_window_slides() -> None:
    g = guardian(frequency_threshold=3, window_s=60)
    for i in range(3):
        g.process_event(event("x", i * 30))  # 0, 30, 60
    assert g.process_event(event("x", 125)) == []  # the calls at 0, 30 have left the window
    assert types(g) == []


def test_events_are_judged_at_their_own_time_not_the_wall_clock() -> None:
    g = guardian(frequency_threshold=2, window_s=60)
    for i in range(3):
        g.process_event(event("x", i * 3600))  # an hour apart: never a spike, however fast they are fed
    assert types(g) == []


def test_learned_baseline_spike_below_the_fixed_threshold_and_not_during_warm_up() -> None:
    g = guardian(frequency_threshold=1000, baseline={"interval_s": 60, "warmup_intervals": 20, "min_count": 5, "z": 4})
    t = 0.0
    for _minute in range(10):  # warming up: 3 a minute, then a burst of 12 -> nothing (still learning)
        for _ in range(3):
            g.process_event(event("x", t))
            t += 20
    for _ in range(12):
        g.process_event(event("x", t))
        t += 1
    assert types(g) == []
    t = 10 * 60 * 60.0
    for _minute in range(30):
        for _ in range(3):
            g.process_event(event("x", t))
            t += 20
    assert types(g) == []
    found = []
    for _ in range(12):
        found += g.process_event(event("x", t))
        t += 1
    assert [f.type.value for f in found] == ["frequency_spike", "volume_spike"]  # one tool: both rates jump
    assert found[0].details["baseline_spike"] is True and found[0].details["baseline_limit"] >= 5


def test_sequence_with_gaps_within_the_window() -> None:
    g = guardian(suspicious_sequences=[["read_secrets", "http_request"]], sequence_window_s=300)
    g.process_event(event("read_secrets", 0, event_id="e1"))
    g.process_event(event("list_files", 10))
    [inc] = g.process_event(event("http_request", 20, event_id="e3"))
    assert inc.type.value == "suspicious_sequence" and inc.evidence == ("e1", "e3")
    assert inc.subject == "read_secrets > http_request"


def test_sequence_out_of_window_or_out_of_order_is_not_reported() -> None:
    g = guardian(suspicious_sequences=[["read_secrets", "http_request"]], sequence_window_s=300)
    g.process_event(event("http_request", 0))
    g.process_event(event("read_secrets", 1))
    assert g.process_event(event("http_request", 400)) == []  # 399 s after the read
    assert types(g) == []


def test_wildcard_is_exactly_one_call_and_sequences_are_per_agent() -> None:
    g = guardian(suspicious_sequences=[["a", "*", "c"]])
    g.process_event(event("a", 0))
    assert g.process_event(event("c", 1)) == []  # nothing between a and c
    g.process_event(event("b", 2, agent="other"))  # another agent's call does not fill the gap
    g.process_event(event("c", 3))
    assert types(g) == ["suspicious_sequence"]  # a, c (the '*'), c


def test_repeated_step_sequence() -> None:
    g = guardian(suspicious_sequences=[["pay", "pay"]])
    assert g.process_event(event("pay", 0)) == []
    assert [i.type.value for i in g.process_event(event("pay", 1))] == ["suspicious_sequence"]


def test_off_hours_in_the_configured_timezone_by_event_time() -> None:
    g = guardian(allowed_hours={"start": 9, "end": 17}, timezone="America/New_York")
    # 2026-06-01 14:00 UTC is 10:00 in New York (EDT): inside; 23:00 UTC is 19:00: outside
    assert g.process_event(event("x", 4 * 3600)) == []
    [inc] = g.process_event(event("x", 13 * 3600))
    assert inc.type.value == "off_hours" and inc.details["hour"] == 19 and inc.details["timezone"] == "America/New_York"


def test_winter_time_shifts_the_local_hour() -> None:
    g = guardian(allowed_hours={"start": 9, "end": 17}, timezone="America/New_York")
    winter = datetime(2026, 1, 15, 13, 30, tzinfo=UTC)  # 08:30 EST (it would be 09:30 in EDT)
    [inc] = g.process_event(AuditEvent(agent_id="a", tool_name="x", outcome=Outcome.ALLOW, timestamp=winter))
    assert inc.details["hour"] == 8


@pytest.mark.parametrize(("hour", "inside"), [(22, True), (23, True), (0, True), (5, True), (6, False), (12, False)])
def test_allowed_hours_across_midnight(hour: int, inside: bool) -> None:
    assert AllowedHours(start=22, end=6).allows(hour) is inside


def test_first_use_after_the_learning_period_only() -> None:
    g = GuardianAgent(GuardianConfig(first_use_after_s=3600, denial_burst_threshold=0), store=MemoryStore())
    assert g.process_event(event("x", 0)) == []
    assert g.process_event(event("y", 60)) == []  # learning: its normal tools
    assert g.process_event(event("x", 7200)) == []  # known
    [inc] = g.process_event(event("z", 7300))
    assert inc.type.value == "first_use" and inc.severity == "low" and inc.subject == "z"


def test_denial_burst_counts_denials_once_per_call() -> None:
    g = guardian(denial_burst_threshold=3, denial_burst_window_s=60)
    # a gated call: decision REQUIRE_APPROVAL, then resolution DENY: one denial
    for i in range(3):
        g.process_event(event("pay", i, outcome=Outcome.REQUIRE_APPROVAL))
        g.process_event(event("pay", i, kind="resolution", outcome=Outcome.DENY))
    assert types(g) == []
    [inc] = g.process_event(event("pay", 4, outcome=Outcome.DENY))
    assert inc.type.value == "denial_burst" and inc.details["count"] == 4


def test_gated_calls_are_one_call_for_the_rates() -> None:
    g = guardian(frequency_threshold=3)
    for i in range(3):
        g.process_event(event("pay", i, outcome=Outcome.REQUIRE_APPROVAL))
        g.process_event(event("pay", i, kind="resolution", outcome=Outcome.ALLOW))
        g.process_event(event("pay", i, kind="execution", outcome=Outcome.ALLOW))
    assert types(g) == []


def test_kill_switch_denials_are_not_analysed_again() -> None:
    g = guardian(denial_burst_threshold=1, frequency_threshold=1)
    killed = (Reason(code="AGENT_KILL_SWITCH", message="x"),)
    for i in range(5):
        g.process_event(event("x", i, outcome=Outcome.DENY, reasons=killed))
    assert types(g) == []


def test_other_kinds_and_events_without_agent_are_ignored() -> None:
    g = guardian(volume_threshold=1)
    for i in range(3):
        g.process_event(AuditEvent(kind="lifecycle", timestamp=T0 + timedelta(seconds=i)))
        g.process_event(AuditEvent(kind="guardian.incident", agent_id="a", timestamp=T0))
    assert types(g) == []


def test_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="timezone"):
        GuardianConfig(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="cannot start with"):
        GuardianConfig(suspicious_sequences=[["*", "x"]])
    with pytest.raises(ValueError):
        GuardianConfig(suspicious_sequences=[["x"] * 9])
    with pytest.raises(ValueError):
        GuardianConfig(unknown=1)  # type: ignore[call-arg]
