"""The ``[guardian]`` configuration section, also the ``GuardianAgent``'s configuration in code.

::

    [guardian]
    blueprint = "finance"                  # start from a blueprint: engineering, finance, soc
    mode = "block"                         # monitor | block | correct
    timezone = "Europe/London"             # allowed_hours are read in this zone (IANA name)
    allowed_hours = { start = 8, end = 18 }
    frequency_threshold = 30               # calls of one agent to one tool within window_s
    volume_threshold = 100                 # calls of one agent to all tools within window_s
    window_s = 60
    suspicious_sequences = [["query_customer_db", "send_email"]]
    sequence_window_s = 600
    auto_kill_threshold = 3                # incidents (medium or worse) before the kill; 0: never

A key given next to ``blueprint`` overrides the blueprint's value. Every threshold is a count; every
duration is in seconds of the events' own timestamps.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from agent_security.core import SectionModel

__all__ = ["AllowedHours", "BaselineConfig", "GuardianConfig", "Mode", "Severity"]

Mode = Literal["monitor", "block", "correct"]
Severity = Literal["low", "medium", "high", "critical"]

MAX_SEQUENCES = 64
MAX_SEQUENCE_LENGTH = 8
MAX_TOOL_NAME = 256


class AllowedHours(SectionModel):
    """Hours of the day (in ``timezone``) in which agents may act: ``start <= hour < end``, or across
    midnight when ``start > end`` (``{start = 22, end = 6}``). ``start == end`` allows no hour."""

    start: int = Field(ge=0, le=23)
    end: int = Field(ge=0, le=24)

    def allows(self, hour: int) -> bool:
        if self.start <= self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


class BaselineConfig(SectionModel):
    """The learned rate of each agent (volume) and of each agent and tool (frequency).

    Calls are counted per ``interval_s``; each finished interval updates an exponentially weighted
    mean and variance (weight ``alpha``). Once ``warmup_intervals`` intervals were seen, an interval
    whose count exceeds ``max(min_count, mean + z * stddev)`` is a spike, even below the fixed
    thresholds."""

    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0, le=86_400)
    alpha: float = Field(default=0.1, gt=0, le=1)
    z: float = Field(default=4.0, gt=0, le=100)
    warmup_intervals: int = Field(default=30, ge=1, le=100_000)
    min_count: int = Field(default=10, ge=1, le=1_000_000)


class GuardianConfig(SectionModel):
    """Configuration of a :class:`~agent_security.guardian.GuardianAgent` (section ``[guardian]``)."""

    enabled: bool = True
    blueprint: Literal["engineering", "finance", "soc"] | None = None
    """Start from a blueprint (see :mod:`agent_security.guardian.blueprints`); keys given here override it."""
    name: str = Field(default="Guardian", max_length=256)
    mode: Mode = "monitor"
    """``monitor``: record incidents only. ``block``: also kill an agent through the kill switch once it
    reaches ``auto_kill_threshold`` (its next calls are denied ``AGENT_KILL_SWITCH``). ``correct``: put it
    under review instead: each of its calls then needs a human (``REQUIRE_HUMAN`` ``GUARDIAN_REVIEW``)."""

    frequency_threshold: int = Field(default=0, ge=0, le=1_000_000)
    """More calls of one agent to one tool within ``window_s`` than this: ``frequency_spike``. 0: off."""
    volume_threshold: int = Field(default=0, ge=0, le=10_000_000)
    """More calls of one agent (all tools) within ``window_s`` than this: ``volume_spike``. 0: off."""
    window_s: float = Field(default=60.0, gt=0, le=86_400)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)

    suspicious_sequences: tuple[tuple[str, ...], ...] = Field(default=(), max_length=MAX_SEQUENCES)
    """Ordered tool sequences (other calls may come between the steps; ``*`` is any one tool)."""
    sequence_window_s: float = Field(default=600.0, gt=0, le=7 * 86_400)
    """A sequence counts when its first and last steps are at most this far apart."""

    allowed_hours: AllowedHours | None = None
    timezone: str = Field(default="UTC", max_length=64)

    first_use: bool = True
    """Report the first use of a tool by an agent (once the agent is past ``first_use_after_s``)."""
    first_use_after_s: float = Field(default=86_400.0, ge=0, le=365 * 86_400)
    """An agent's learning period: tools it first uses within this time of its first event are its normal tools."""

    denial_burst_threshold: int = Field(default=10, ge=0, le=1_000_000)
    """More denied calls of one agent within ``denial_burst_window_s`` than this: ``denial_burst``. 0: off."""
    denial_burst_window_s: float = Field(default=60.0, gt=0, le=86_400)

    cooldown_s: float = Field(default=600.0, gt=0, le=30 * 86_400)
    """An open incident stays open (absorbing repeats as evidence) until its anomaly was quiet this long."""
    auto_kill_threshold: int = Field(default=0, ge=0, le=1_000_000)
    """Incidents of at least ``kill_min_severity`` an agent may cause before it is killed. 0: never."""
    kill_min_severity: Severity = "medium"

    max_agents: int = Field(default=10_000, ge=1, le=10_000_000)
    """Agents whose detection state is kept in memory (the oldest are written back to the store and dropped)."""
    max_tools_per_agent: int = Field(default=256, ge=1, le=100_000)
    max_incidents: int = Field(default=1_000, ge=1, le=1_000_000)
    """Incidents kept in memory for :meth:`~agent_security.guardian.GuardianAgent.incidents` (the trail keeps all)."""
    max_evidence: int = Field(default=16, ge=1, le=1_000)
    """Event ids an incident carries as evidence."""
    analysis: Literal["inline", "background"] = "inline"
    """``inline``: each event is analysed before the check that wrote it returns, so a kill holds from the
    agent's very next call. ``background``: a worker thread analyses the events (the check only queues its
    event); a kill then holds once the worker reached the triggering event."""
    queue_size: int = Field(default=10_000, ge=1, le=10_000_000)
    """Background analysis: events that may wait; beyond, a call is denied (the guardian fails closed)."""
    sync_interval_s: float = Field(default=60.0, ge=0, le=86_400)
    """The longest an agent's detection state may differ from what the store holds for other processes
    (event time): a changed state is written on the first event analysed once this has passed since its
    oldest unwritten change. A new agent and a tool new to an agent are written at once; every state at
    shutdown (:meth:`~agent_security.guardian.GuardianAgent.flush`). 0: after every event."""

    @field_validator("suspicious_sequences")
    @classmethod
    def _sequences(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for seq in value:
            if not 1 <= len(seq) <= MAX_SEQUENCE_LENGTH:
                raise ValueError(f"a suspicious sequence has 1 to {MAX_SEQUENCE_LENGTH} steps, not {len(seq)}")
            if any(not step or len(step) > MAX_TOOL_NAME for step in seq):
                raise ValueError("a sequence step is a tool name (1-256 characters) or '*'")
            if seq[0] == "*":
                raise ValueError("a suspicious sequence cannot start with '*'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (an IANA name such as 'Europe/London')") from exc
        return value

    @model_validator(mode="before")
    @classmethod
    def _apply_blueprint(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("blueprint"):
            from agent_security.guardian.blueprints import BLUEPRINTS

            base = BLUEPRINTS.get(str(data["blueprint"]))
            if base is None:
                return data  # the Literal reports the unknown name
            return {**base.model_dump(exclude_unset=True, exclude={"blueprint"}), **data}
        return data

    def with_overrides(self, **changes: Any) -> GuardianConfig:
        """A validated copy with ``changes`` applied (``BLUEPRINT_FINANCE.with_overrides(auto_kill_threshold=5)``)."""
        return GuardianConfig.model_validate({**self.model_dump(exclude_unset=True), **changes})
