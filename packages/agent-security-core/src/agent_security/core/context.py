"""The per-check context handed to every check hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent_security.core.store import Store

if TYPE_CHECKING:
    from agent_security.core.host import Host, Mode

__all__ = ["CheckContext"]


@dataclass(eq=False)
class CheckContext:
    """What a check hook may use besides the request: the host, the shared store, the check's time, and
    a way to record redacted facts and alerts in the audit trail.

    ``now`` is the wall-clock instant of this check (timezone-aware UTC; the request's own timestamp
    when the check built the request from the caller's fields), ``time`` the same instant in epoch
    seconds (comparable across processes, like the store's own clock, which measures windows and TTLs)
    and ``monotonic`` the monotonic reading for waits inside this process. All come from the host's
    injectable :class:`~agent_security.core.clock.Clock`, so tests and replays never depend on the
    machine's time. ``host`` is ``None`` only in unit tests that build a context by hand.
    """

    host: Host | None
    store: Store
    now: datetime
    monotonic: float
    mode: Mode = "enforce"
    request_hash: str = ""
    phase: str = ""
    annotations: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    _alert_sink: Callable[[str, str, Mapping[str, Any]], None] | None = field(default=None, repr=False)
    time: float = -1.0
    """Epoch seconds of ``now`` (derived from it when not given)."""
    scratch: dict[str, Any] = field(default_factory=dict)
    """Working space the plugins of one check share (e.g. the built-ins' one store call per check):
    never audited, gone with the check. Key it by your plugin's name."""

    def __post_init__(self) -> None:
        if self.time < 0 and isinstance(self.now, datetime):
            self.time = self.now.timestamp()

    def annotate(self, plugin: str, facts: Mapping[str, Any]) -> None:
        """Record redacted facts about this check under ``plugin`` in the primary audit event."""
        self.annotations.setdefault(plugin, {}).update(facts)

    def alert(self, code: str, message: str, data: Mapping[str, Any] | None = None) -> None:
        """Emit an ``alert`` audit event now (e.g. DLP action ``alert``); ``data`` must be redacted."""
        entry: dict[str, Any] = {"code": code, "message": message, "data": dict(data or {})}
        self.alerts.append(entry)
        if self._alert_sink is not None:
            self._alert_sink(code, message, entry["data"])
