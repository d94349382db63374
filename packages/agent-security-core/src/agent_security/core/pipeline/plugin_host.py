"""The :class:`~agent_security.core.host.Host` an ``AgentSecurity`` hands its plugins."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from agent_security.core.errors import PluginContractError
from agent_security.core.hookspecs import hook_names
from agent_security.core.models import AuditEvent, Outcome, Reason
from agent_security.core.pipeline import events
from agent_security.core.pipeline.runtime import Runtime

if TYPE_CHECKING:
    from agent_security.core.clock import Clock
    from agent_security.core.config import Settings
    from agent_security.core.host import Mode
    from agent_security.core.store import Store

__all__ = ["PluginHost"]

_CORE_HOOKS = frozenset(hook_names())


class PluginHost:
    """What a plugin may use of the instance that runs it, and nothing more (see
    :class:`agent_security.core.host.Host`)."""

    __slots__ = ("_register", "_rt")

    def __init__(self, rt: Runtime, register: Callable[..., str]) -> None:
        self._rt = rt
        self._register = register

    @property
    def store(self) -> Store:
        return self._rt.store

    @property
    def clock(self) -> Clock:
        return self._rt.clock

    @property
    def mode(self) -> Mode:
        return self._rt.mode

    @property
    def settings(self) -> Settings:
        return self._rt.settings

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
        return events.plugin_event(
            self._rt,
            kind,
            data,
            agent_id=agent_id,
            request_id=request_id,
            tool_name=tool_name,
            environment=environment,
            outcome=outcome,
            reasons=reasons,
        )

    def register_plugin(self, plugin: Any, *, name: str | None = None) -> str:
        return self._register(plugin, name=name)

    def get_plugin(self, name: str) -> Any:
        return self._rt.relay.get_plugin(name)

    def call_extension_hook(self, name: str, **kwargs: Any) -> list[Any]:
        if name in _CORE_HOOKS:
            raise PluginContractError(f"{name} is a core hook: the pipeline calls it, plugins do not")
        return self._rt.relay.extension(name, kwargs)

    def __repr__(self) -> str:
        return f"<PluginHost mode={self._rt.mode!r}>"
