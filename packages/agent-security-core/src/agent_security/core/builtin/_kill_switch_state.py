"""The kill switch's state model, :class:`KillSwitchState` (imported from
:mod:`agent_security.core.builtin.kill_switch`, where it is documented).

It lives apart from the kill switch because it is a pydantic model: the kill switch's module may be
compiled (see ``hatch_build.py``), and pydantic reads class bodies in ways a compiled class does not support.
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = ["MAX_KILLED_AGENTS", "MAX_REASON_CHARS", "KillSwitchState"]

MAX_REASON_CHARS = 1_000
MAX_KILLED_AGENTS = 100_000


class KillSwitchState(BaseModel):
    """A snapshot of the kill switch (also the JSON file format). Agent-SPM's camelCase keys load too."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    killed_agents: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("killed_agents", "killedAgents"),
        max_length=MAX_KILLED_AGENTS,
    )
    """Killed agent id -> reason."""
    global_kill: bool = Field(False, validation_alias=AliasChoices("global_kill", "globalKill"))
    global_reason: str = Field(
        "", validation_alias=AliasChoices("global_reason", "globalReason"), max_length=MAX_REASON_CHARS
    )
