"""Detection state per agent, and where it lives in the store so that processes share it.

Each agent has one :class:`AgentState`: its volume :class:`~agent_security.guardian.stats.Rate`, one rate
per tool it used (the frequency baseline, and the record of which tools it has used at all), its denials
and its partial sequence matches. A process keeps the states of the agents it sees in memory (at most
``max_agents``) and writes each changed state back to the store (see :meth:`Detectors.save_due
<agent_security.guardian.detect.Detectors.save_due>`): a new agent or a tool new to an agent at once, any
other change within ``sync_interval_s`` (event time) of when it was made, every state at shutdown, and a
state leaving memory before it goes. A process that meets an agent for the first time reads its state
from the store. So a short-lived hook
process continues where the previous one stopped, and a fleet on one store learns one baseline per
agent and tool (concurrent writers: the last write wins; the counts are statistics, not limits).

The facts that must be exact across processes are single atomic store operations: an incident is
opened once per agent, anomaly and ``cooldown_s`` (``incr`` on ``guardian:open:...``), the incidents an
agent caused are counted with ``incr`` (``guardian:violations:...``), and an agent is killed once
(``guardian:kill:...``). Store keys (identifiers percent-encoded):

==============================================  ==============================================
``guardian:state:<agent>``                      the agent's detection state (JSON)
``guardian:open:<agent>:<type>:<subject>``      an open incident's claim, expiring after ``cooldown_s``
``guardian:violations:<agent>``                 incidents counted towards the kill threshold
``guardian:kill:<agent>``                       the agent was killed (or put under review) by a guardian
``guardian:review:<agent>``                     correct mode: the agent's calls need a human
==============================================  ==============================================
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any
from urllib.parse import quote

from agent_security.guardian.stats import Rate, SequenceProgress, SequenceSet

__all__ = ["STATE_VERSION", "AgentState", "ToolUse", "Tracked", "key", "state_key"]

STATE_VERSION = 1
PREFIX = "guardian:"


@functools.lru_cache(maxsize=4096)
def _part(value: str) -> str:
    return quote(value, safe="")


def key(kind: str, agent_id: str, *rest: str) -> str:
    """``guardian:<kind>:<agent>[:<rest>...]`` with every identifier percent-encoded."""
    return ":".join((PREFIX + kind, _part(agent_id), *(_part(r) for r in rest)))


def state_key(agent_id: str) -> str:
    return key("state", agent_id)


class Tracked(Rate):
    """A :class:`Rate` that also keeps the ids of its last events (an incident's evidence)."""

    __slots__ = ("recent",)

    def __init__(self, evidence: int) -> None:
        super().__init__()
        self.recent: deque[str] = deque(maxlen=evidence)

    @classmethod
    def restore(cls, data: Any, evidence: int) -> Tracked:
        rate = Rate.load(data)
        tracked = cls(evidence)
        for name in Rate.__slots__:
            setattr(tracked, name, getattr(rate, name))
        return tracked


class AgentState:
    """One agent's detection state (not thread-safe: the guardian holds its lock)."""

    __slots__ = ("agent_id", "changed", "denials", "pairs", "seq", "since", "volume")

    def __init__(self, agent_id: str, since: float, evidence: int) -> None:
        self.agent_id = agent_id
        self.since = since
        """The timestamp of the agent's first event (its learning period starts there)."""
        self.volume = Tracked(evidence)
        self.denials = Tracked(evidence)
        self.pairs: dict[str, Tracked] = {}
        self.seq = SequenceProgress()
        self.changed: float | None = None
        """The event time of the oldest change the store does not have yet; ``None``: the store has it all
        (``-inf``: a change to write at once)."""

    def add_tool(self, tool: str, evidence: int, max_tools: int) -> Tracked:
        if len(self.pairs) >= max_tools:
            del self.pairs[self.oldest_tool()]
        pair = self.pairs[tool] = Tracked(evidence)
        return pair

    def oldest_tool(self) -> str:
        """The tool first seen longest ago (the one :meth:`add_tool` drops when the agent has ``max_tools``)."""
        return next(iter(self.pairs))

    def dump(self, sequences: SequenceSet) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "since": self.since,
            "volume": self.volume.dump(),
            "denials": self.denials.dump(),
            "tools": {t: p.dump() for t, p in self.pairs.items()},
            "sequences": [list(s) for s in sequences.sequences],
            "progress": self.seq.dump(),
        }

    @classmethod
    def load(cls, agent_id: str, data: Any, sequences: SequenceSet, evidence: int, max_tools: int) -> AgentState:
        """The state stored for ``agent_id``; raises ``ValueError`` (and friends) when it is malformed."""
        if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
            raise ValueError("not a guardian state of this version")
        state = cls(agent_id, float(data["since"]), evidence)
        state.volume = Tracked.restore(data["volume"], evidence)
        state.denials = Tracked.restore(data["denials"], evidence)
        tools = data["tools"]
        for tool in list(tools)[-max_tools:]:
            state.pairs[str(tool)] = Tracked.restore(tools[tool], evidence)
        if [tuple(s) for s in data.get("sequences", ())] == list(sequences.sequences):
            state.seq = SequenceProgress.load(data.get("progress"), sequences)
        return state


class ToolUse:
    """One agent's use of one tool, as a call of it needs it: the agent's state, the tool's rate in it, and
    the sequences a call of the tool can advance (:meth:`SequenceSet.relevant
    <agent_security.guardian.stats.SequenceSet.relevant>`)."""

    __slots__ = ("rate", "sequences", "state", "tool")

    def __init__(self, state: AgentState, tool: str, rate: Tracked, sequences: tuple[int, ...]) -> None:
        self.state = state
        self.tool = tool
        self.rate = rate
        self.sequences = sequences
