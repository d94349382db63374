"""The host: what a plugin may use of the :class:`~agent_security.core.AgentSecurity` that runs it.

Plugins never receive the ``AgentSecurity`` itself. Distribution hooks (``agent_security_configure``,
``agent_security_shutdown``) get a :class:`Host`, check hooks reach the same object as ``ctx.host``, and a
plugin object with a ``bind_host(host)`` method is handed it when it is registered. Everything on it is
public, documented and stable across minor versions; nothing else of the pipeline is reachable from a
plugin, so the pipeline's internals can change without breaking one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from agent_security.core.clock import Clock
    from agent_security.core.config import Settings
    from agent_security.core.models import AuditEvent, Outcome, Reason
    from agent_security.core.store import Store

__all__ = ["Host", "Mode"]

Mode = Literal["enforce", "observe"]


@runtime_checkable
class Host(Protocol):
    """What a plugin may call. Thread-safe; every method may be called from any hook or thread."""

    @property
    def store(self) -> Store:
        """The state store every plugin of this instance shares (kill switch, limits, baselines, ...)."""
        ...

    @property
    def clock(self) -> Clock:
        """The instance's clock (wall, epoch and monotonic readings); tests inject their own."""
        ...

    @property
    def mode(self) -> Mode:
        """``"enforce"`` or ``"observe"`` (decide and audit, block nothing)."""
        ...

    @property
    def settings(self) -> Settings:
        """The validated configuration: ``settings.section("<name>")`` is a plugin's own section."""
        ...

    def record_event(
        self,
        kind: str,
        data: Mapping[str, Any] | None = None,
        *,
        agent_id: str | None = None,
        request_id: str | None = None,
        tool_name: str | None = None,
        environment: str | None = None,
        outcome: Outcome | None = None,
        reasons: Iterable[Reason] = (),
    ) -> AuditEvent:
        """Append an event to the audit trail and return it, chained.

        ``kind`` is namespaced by the plugin that writes it (``guardian.incident``, ``identity.mismatch``,
        ``kill_switch.kill``): lowercase words joined by dots, at most 64 characters; the core's own kinds
        (``decision``, ``resolution``, ...) are reserved. ``data`` must be redacted, JSON-compatible and
        bounded like tool arguments. Subscribers (``agent_security_audit_event``) receive it like any event.
        Raises :class:`~agent_security.core.errors.AuditWriteError` when the trail refuses it.
        """
        ...

    def register_plugin(self, plugin: Any, *, name: str | None = None) -> str:
        """Register a plugin object on this instance (from ``agent_security_configure``)."""
        ...

    def get_plugin(self, name: str) -> Any:
        """The registered plugin called ``name``, or ``None``."""
        ...

    def call_extension_hook(self, name: str, **kwargs: Any) -> list[Any]:
        """Call a hook that a distribution added with ``agent_security_addhooks`` (e.g. egress's
        ``agent_security_egress_classifiers``) and return every implementation's result; ``[]`` when no
        such hook is specified. The core's own hooks cannot be called this way."""
        ...
