"""The per-check context handed to every check hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from agent_security.core.store import Store

if TYPE_CHECKING:
    from agent_security.core.sdk import AgentSecurity

__all__ = ["CheckContext"]


@dataclass(init=False)
class CheckContext:
    """What a check hook may use besides the request: the shared store, the clocks, and a way to
    record redacted facts and alerts in the audit trail.

    ``now`` is the wall-clock time of this check (timezone-aware UTC; the request's own timestamp when
    the check built the request from the caller's fields); ``monotonic`` is the monotonic
    clock reading used for windows and TTLs. Both come from the ``AgentSecurity`` instance's injectable
    clocks, so tests and replays never depend on the machine's time.
    """

    security: AgentSecurity
    store: Store
    now: datetime
    monotonic: float
    mode: Literal["enforce", "observe"] = "enforce"
    request_hash: str = ""
    phase: str = ""
    annotations: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    _alert_sink: Callable[[str, str, Mapping[str, Any]], None] | None = field(default=None, repr=False)

    def __init__(self, security: AgentSecurity, store: Store, now: datetime, monotonic: float,
                 mode: Literal["enforce", "observe"] = "enforce", request_hash: str = "", phase: str = "",
                 annotations: dict[str, Any] | None = None, alerts: list[dict[str, Any]] | None = None,
                 _alert_sink: Callable[[str, str, Mapping[str, Any]], None] | None = None) -> None:
        # Written out (the generated ``__init__`` would be the one function of a check left uncompiled):
        # the same parameters, defaults and fresh containers as the dataclass's own.
        self.security = security
        self.store = store
        self.now = now
        self.monotonic = monotonic
        self.mode = mode
        self.request_hash = request_hash
        self.phase = phase
        self.annotations = {} if annotations is None else annotations
        self.alerts = [] if alerts is None else alerts
        self._alert_sink = _alert_sink

    def annotate(self, plugin: str, facts: Mapping[str, Any]) -> None:
        """Record redacted facts about this check under ``plugin`` in the primary audit event."""
        self.annotations.setdefault(plugin, {}).update(facts)

    def alert(self, code: str, message: str, data: Mapping[str, Any] | None = None) -> None:
        """Emit an ``alert`` audit event now (e.g. DLP action ``alert``); ``data`` must be redacted."""
        entry: dict[str, Any] = {"code": code, "message": message, "data": dict(data or {})}
        self.alerts.append(entry)
        if self._alert_sink is not None:
            self._alert_sink(code, message, entry["data"])
