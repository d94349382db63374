"""The detectors: one pass over a call's audit event updates the agent's state and lists its anomalies.

:meth:`Detectors.observe` is the per-event path: a few dictionary reads, two
:class:`~agent_security.guardian.stats.Rate` ticks (the tool's and the agent's), the sequences that
mention the tool, the hour gate, and, for a denial, the denial rate. Nothing in it grows with the number
of calls; its memory is bounded by ``max_agents`` x ``max_tools_per_agent``. Descriptions are only built
for an anomaly. The state of an agent met for the first time is read from the store (one ``get``); changed
states are written back by :meth:`Detectors.save_due` (see :mod:`agent_security.guardian.state`).

Not thread-safe: the guardian calls it under its lock.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from agent_security.core import Outcome
from agent_security.guardian.config import GuardianConfig
from agent_security.guardian.incidents import AnomalyType
from agent_security.guardian.state import AgentState, ToolUse, Tracked, state_key
from agent_security.guardian.stats import BUCKETS, HourGate, SequenceSet

if TYPE_CHECKING:
    from agent_security.core import AuditEvent, Store

__all__ = ["KILL_CODES", "MAX_SYNC_WRITES", "Detectors", "Finding", "sequence_finding"]

KILL_CODES = frozenset({"AGENT_KILL_SWITCH", "GLOBAL_KILL_SWITCH", "GUARDIAN_REVIEW"})
"""Denials of calls already stopped: not analysed again."""
MAX_SYNC_WRITES = 8
"""States written while one event is analysed (the rest on the following events); a flush writes them all."""
_DENY = Outcome.DENY
_NOW = float("-inf")

Finding = tuple[AnomalyType, str, str, str, dict[str, Any], tuple[str, ...]]
"""(type, subject, severity, description, details, evidence)"""


class Detectors:
    """Every agent's detection state and the detectors that read it (see the module documentation)."""

    def __init__(self, config: GuardianConfig, store: Store) -> None:
        cfg = config
        self.config = cfg
        self.store = store
        self.agents: dict[str, AgentState] = {}
        self.uses: dict[tuple[str, str], ToolUse] = {}
        """The uses of a tool by an agent in :attr:`agents`, by ``(agent, tool)``: what a call works on, found
        with one lookup."""
        self.invalid: list[tuple[str, str]] = []
        """Agents whose stored state could not be read (they started afresh), for the guardian to report."""
        self.sequences = SequenceSet(cfg.suspicious_sequences)
        self.hours = HourGate(cfg.allowed_hours, cfg.timezone) if cfg.allowed_hours is not None else None
        self.bucket_s = cfg.window_s / BUCKETS
        self._burst_bucket_s = cfg.denial_burst_window_s / BUCKETS
        self._base = cfg.baseline
        self.baseline_on = cfg.baseline.enabled
        self.interval_s = cfg.baseline.interval_s
        self._frequency = cfg.frequency_threshold
        self._volume = cfg.volume_threshold
        self._burst = cfg.denial_burst_threshold
        self._first_use_after = cfg.first_use_after_s if cfg.first_use else None
        self._sequence_window = cfg.sequence_window_s
        self._sync_s = cfg.sync_interval_s
        self.unsaved: deque[tuple[float, AgentState]] = deque()
        """``(changed, state)`` of the states with changes the store does not have, in the order they were
        made; an entry whose state was written since (or evicted) is skipped."""
        self.next_due = float("inf")
        """When :meth:`save_due` has a state to write."""

    def observe(self, event: AuditEvent, agent: str, call: bool, ts: float) -> list[Finding] | None:
        """Take one event at epoch second ``ts`` into account (``call``: a ``decision`` event); its anomalies,
        or ``None``."""
        denied = event.outcome is _DENY
        if denied and any(r.code in KILL_CODES for r in event.reasons):
            return None  # already stopped: the kill switch's denials are in the trail
        found: list[Finding] | None = None
        eid = event.event_id
        if call:
            tool = event.tool_name or ""
            use = self.uses.get((agent, tool))
            if use is None:
                use, found = self._first_call(agent, tool, ts, eid)
            st = use.state
            bucket = int(ts / self.bucket_s)
            interval = int(ts / self.interval_s)
            base = self._base
            pair = use.rate
            pair.recent.append(eid)
            n = pair.tick(bucket, interval, base)
            threshold = self._frequency
            if (threshold and n > threshold and pair.exact() > threshold) or (
                pair.count > pair.limit and self.baseline_on
            ):
                found = found or []
                found.append(self._spike(AnomalyType.FREQUENCY_SPIKE, agent, tool, pair, threshold))
            volume = st.volume
            volume.recent.append(eid)
            n = volume.tick(bucket, interval, base)
            threshold = self._volume
            if (threshold and n > threshold and volume.exact() > threshold) or (
                volume.count > volume.limit and self.baseline_on
            ):
                found = found or []
                found.append(self._spike(AnomalyType.VOLUME_SPIKE, agent, "", volume, threshold))
            if use.sequences:
                for s, (start, ids) in st.seq.advance(
                    self.sequences, use.sequences, tool, ts, eid, self._sequence_window
                ):
                    found = found or []
                    found.append(sequence_finding(agent, self.sequences.sequences[s], ts - start, ids))
            gate = self.hours
            if gate is not None:
                if not gate.lo <= ts < gate.hi:
                    gate.refresh(ts)
                if not gate.inside:
                    found = found or []
                    found.append(self._off_hours(agent, gate.hour, eid))
        else:
            st = self.agents.get(agent) or self._load(agent, ts)
        if denied and self._burst:
            burst = st.denials
            burst.recent.append(eid)
            n = burst.tick(int(ts / self._burst_bucket_s), 0, self._base)
            if n > self._burst and burst.exact() > self._burst:
                found = found or []
                found.append(self._denials(agent, burst))
        if st.changed is None:
            self.changed(st, ts)
        return found

    def _first_call(self, agent: str, tool: str, ts: float, eid: str) -> tuple[ToolUse, list[Finding] | None]:
        """The agent's use of ``tool``, not in :attr:`uses` yet: its state loaded when the agent is not in
        memory, the tool added when the agent has not used it (a first use once past its learning period)."""
        st = self.agents.get(agent) or self._load(agent, ts)
        found: list[Finding] | None = None
        pair = st.pairs.get(tool)
        if pair is None:
            cfg = self.config
            if len(st.pairs) >= cfg.max_tools_per_agent:
                self.uses.pop((agent, st.oldest_tool()), None)
            pair = st.add_tool(tool, cfg.max_evidence, cfg.max_tools_per_agent)
            self.changed(st, _NOW)
            after = self._first_use_after
            if after is not None and ts - st.since >= after:
                found = [_first_use(agent, tool, st.since, eid)]
        use = self.uses[(agent, tool)] = ToolUse(st, tool, pair, self.sequences.relevant(tool))
        return use, found

    # -- findings (built only for an anomaly) ------------------------------------------------------------
    def _spike(self, typ: AnomalyType, agent: str, tool: str, rate: Tracked, threshold: int) -> Finding:
        n = rate.exact()
        learned = rate.limit != float("inf")
        spike = learned and rate.count > rate.limit and self.baseline_on
        what = f'calls to "{tool}"' if tool else "calls"
        description = (
            f'Agent "{agent}" made {n} {what} in {self.config.window_s:g}s (threshold: {threshold or "-"}; '
            + (f"learned limit {rate.limit:.1f} per interval, {rate.count} in this one)" if learned else "learning)")
        )
        details = {
            "count": n,
            "window_s": self.config.window_s,
            "threshold": threshold,
            "interval_count": rate.count,
            "baseline_mean": round(rate.mean, 3),
            "baseline_limit": round(rate.limit, 3) if learned else None,
            "baseline_spike": spike,
        }
        return (typ, tool, "high", description, details, tuple(rate.recent))

    def _off_hours(self, agent: str, hour: int, eid: str) -> Finding:
        cfg = self.config
        hours = cfg.allowed_hours
        assert hours is not None
        description = (
            f'Agent "{agent}" active outside allowed hours ({hours.start}:00-{hours.end}:00 {cfg.timezone}, '
            f"event at {hour}:00)"
        )
        details = {"hour": hour, "allowed_start": hours.start, "allowed_end": hours.end, "timezone": cfg.timezone}
        return (AnomalyType.OFF_HOURS, "", "medium", description, details, (eid,))

    def _denials(self, agent: str, burst: Tracked) -> Finding:
        cfg = self.config
        n = burst.exact()
        description = (
            f'Agent "{agent}" was denied {n} calls in {cfg.denial_burst_window_s:g}s '
            f"(threshold: {cfg.denial_burst_threshold})"
        )
        details = {"count": n, "window_s": cfg.denial_burst_window_s}
        return (AnomalyType.DENIAL_BURST, "", "high", description, details, tuple(burst.recent))

    # -- state ----------------------------------------------------------------------------------------
    def _load(self, agent: str, ts: float) -> AgentState:
        """The agent's state from the store (or a fresh one, written at once), kept in memory (the oldest
        evicted, written back first if the store lacks some of it)."""
        cfg = self.config
        data = self.store.get(state_key(agent))
        st = None
        if data is not None:
            try:
                st = AgentState.load(agent, data, self.sequences, cfg.max_evidence, cfg.max_tools_per_agent)
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                self.invalid.append((agent, f"{type(exc).__name__}: {str(exc)[:200]}"))
        agents = self.agents
        if len(agents) >= cfg.max_agents:
            old = agents[next(iter(agents))]
            if old.changed is not None:
                self._save(old)
            del agents[old.agent_id]
            for tool in old.pairs:
                self.uses.pop((old.agent_id, tool), None)
        if st is None:
            st = AgentState(agent, ts, cfg.max_evidence)
            self.changed(st, _NOW)
        agents[agent] = st
        return st

    def changed(self, st: AgentState, ts: float) -> None:
        """``st`` changed at ``ts`` (``_NOW``: a change other processes should see at once: a new agent, a
        tool new to it)."""
        if ts == _NOW:
            st.changed = _NOW
            self.unsaved.appendleft((_NOW, st))
            self.next_due = _NOW
        elif st.changed is None:
            st.changed = ts
            self.unsaved.append((ts, st))
            self.next_due = min(self.next_due, ts + self._sync_s)

    def _save(self, st: AgentState) -> None:
        self.store.set(state_key(st.agent_id), st.dump(self.sequences))
        st.changed = None

    def save_due(self, ts: float) -> None:
        """Write the states due at event time ``ts``: changed at least ``sync_interval_s`` before it, or
        changed in a way to share at once; at most :data:`MAX_SYNC_WRITES`, the rest on the next events. A
        state is removed from the queue once written, so a store that fails leaves it queued."""
        unsaved, agents = self.unsaved, self.agents
        due = ts - self._sync_s
        written = 0
        while unsaved:
            changed, st = unsaved[0]
            if st.changed == changed and agents.get(st.agent_id) is st:
                if changed > due or written >= MAX_SYNC_WRITES:
                    self.next_due = changed + self._sync_s if written < MAX_SYNC_WRITES else ts
                    return
                self._save(st)
                written += 1
            unsaved.popleft()
        self.next_due = float("inf")

    def save_all(self) -> None:
        """Write every state the store does not have in full."""
        unsaved, agents = self.unsaved, self.agents
        while unsaved:
            changed, st = unsaved[0]
            if st.changed == changed and agents.get(st.agent_id) is st:
                self._save(st)
            unsaved.popleft()
        self.next_due = float("inf")

    def clear(self) -> None:
        self.agents.clear()
        self.uses.clear()
        self.invalid.clear()
        self.unsaved.clear()
        self.next_due = float("inf")


def _first_use(agent: str, tool: str, since: float, eid: str) -> Finding:
    description = f'Agent "{agent}" used tool "{tool}" for the first time'
    return (AnomalyType.FIRST_USE, tool, "low", description, {"agent_since": since}, (eid,))


def sequence_finding(agent: str, steps: tuple[str, ...], seconds: float, ids: tuple[str, ...]) -> Finding:
    description = f'Agent "{agent}" executed suspicious tool sequence: [{" → ".join(steps)}]'
    details = {"pattern": list(steps), "seconds": round(seconds, 3)}
    return (AnomalyType.SUSPICIOUS_SEQUENCE, " > ".join(steps), "high", description, details, ids)
