"""What one ``AgentSecurity``'s pipeline works with, shared by the pipeline's modules.

The facade builds one :class:`Runtime` and hands it to the phases, the event builder, the resolver and
``protect``. Plugins never see it: they get the :class:`~agent_security.core.host.Host`
(:mod:`agent_security.core.pipeline.plugin_host`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError
from agent_security.core.pipeline.drive import Workers, is_fatal, run_coroutine_sync
from agent_security.core.pipeline.request import RequestDefaults

if TYPE_CHECKING:
    from agent_security.core.audit.trail import AuditTrail
    from agent_security.core.clock import Clock
    from agent_security.core.config import Settings
    from agent_security.core.host import Host, Mode
    from agent_security.core.pipeline.hooks import HookRelay
    from agent_security.core.pipeline.policy_source import PolicySource
    from agent_security.core.store import Store

__all__ = ["Callbacks", "Runtime"]


@dataclass
class Callbacks:
    """The application's callbacks (``AgentSecurity(on_...=...)``), each plain or ``async``."""

    on_approval_required: Callable[..., Any] | None = None
    on_step_up_required: Callable[..., Any] | None = None
    on_ticket_required: Callable[..., Any] | None = None
    on_human_required: Callable[..., Any] | None = None
    on_allow: Callable[..., Any] | None = None
    on_deny: Callable[..., Any] | None = None
    on_error: Callable[[BaseException, str], Any] | None = None


@dataclass(eq=False)
class Runtime:
    relay: HookRelay
    store: Store
    clock: Clock
    mode: Mode
    settings: Settings
    policy: PolicySource
    callbacks: Callbacks
    approval_timeout_s: float
    hook_timeout_s: float
    workers: Workers
    default_environment: str
    default_owner: str
    trail: AuditTrail = field(init=False)
    defaults: RequestDefaults = field(init=False)
    host: Host = field(init=False)
    closed: bool = False

    def __post_init__(self) -> None:
        self.defaults = RequestDefaults(self.default_environment, self.default_owner)

    def ensure_open(self) -> None:
        if self.closed:
            raise ConfigurationError("this AgentSecurity has been shut down")

    def ensure_initialized(self) -> None:
        """A policy is in place (a loader-only instance needs ``init()`` first)."""
        if not self.policy.ready:
            raise ConfigurationError(
                "AgentSecurity is not initialized: call init() or await ainit() when using policy_loader"
            )

    def ensure_ready(self) -> None:
        """Open, and initialized: what a check needs."""
        self.ensure_open()
        self.ensure_initialized()

    def report(self, error: BaseException, where: str) -> None:
        """Tell ``on_error`` about a failure; the reporter itself can never break a check."""
        on_error = self.callbacks.on_error
        if on_error is None:
            return
        try:
            result = on_error(error, where)
            if inspect.isawaitable(result):
                run_coroutine_sync(result, 10.0)
        except BaseException as exc:  # the error reporter must never break a check
            if is_fatal(exc):
                raise

    def new_context(self, rhash: str, now: datetime | None = None) -> CheckContext:
        """The context of one check; ``now`` defaults to a fresh reading of the clock."""
        when = self.clock.now() if now is None else now
        return CheckContext(
            host=self.host,
            store=self.store,
            now=when,
            monotonic=self.clock.monotonic(),
            mode=self.mode,
            request_hash=rhash,
            time=when.timestamp(),
        )
