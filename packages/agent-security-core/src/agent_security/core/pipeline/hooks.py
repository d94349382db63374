"""The one place that calls plugin hooks: a typed method per hook over pluggy's plugin manager.

Nothing else in agent-security reads ``pm.hook``. Check hooks are called one implementation at a time, so
that a failure is attributed to the plugin that raised it (:class:`PluginFailure`); the order of those
implementations is the one stated in :mod:`agent_security.core.hookspecs` and computed by
:meth:`HookRelay.plan`. Distribution hooks (``plugin_info``, ``configure``, ``cli``, ``shutdown``) are
called through pluggy as usual.
"""

from __future__ import annotations

import dataclasses
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from agent_security.core import hookspecs
from agent_security.core.errors import PluginContractError
from agent_security.core.hookspecs import PROJECT_NAME
from agent_security.core.pipeline.drive import PROCESS_FATAL
from agent_security.core.plugins import LoadedPlugin, PluginInfo, check_no_wrappers

if TYPE_CHECKING:
    import click

    from agent_security.core.config import Settings
    from agent_security.core.context import CheckContext
    from agent_security.core.host import Host
    from agent_security.core.models import ActionRequest, AuditEvent, Decision

__all__ = ["HookRelay", "Impl", "Plan", "PluginFailure", "PluginManager", "new_plugin_manager"]


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, finding hook implementations by their name as pytest does: only attributes named
    ``agent_security_*`` implement a hook (every hook of the core and of each distribution is named so),
    and only those are inspected in full when a plugin registers. Any other attribute marked with
    :data:`~agent_security.core.hookimpl` (a ``specname=`` alias) is refused with
    :class:`~agent_security.core.errors.PluginContractError` rather than left silently unregistered: a
    security hook that never runs must not look like one that allowed."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if name.startswith(_HOOK_PREFIX):
            return super().parse_hookimpl_opts(plugin, name)
        if _marked(plugin, name):
            raise PluginContractError(
                f"{name!r} is marked as an agent-security hook implementation but is not named "
                f"{_HOOK_PREFIX}<hook>: name it after the hook it implements"
            )
        return None


_HOOK_PREFIX = f"{PROJECT_NAME}_"
_MARKER = f"{PROJECT_NAME}_impl"


def _marked(plugin: object, name: str) -> bool:
    """Whether the raw attribute ``name`` of ``plugin`` carries the hookimpl marker, read from the instance
    and class dictionaries only (no property, ``__getattr__`` or descriptor of the plugin runs)."""
    owners = [plugin] if isinstance(plugin, types.ModuleType) else [plugin, *type(plugin).__mro__]
    for owner in owners:
        namespace = getattr(owner, "__dict__", None)
        if isinstance(namespace, dict | types.MappingProxyType) and name in namespace:
            value = namespace[name]
            if isinstance(value, classmethod | staticmethod):
                value = value.__func__
            return isinstance(value, types.FunctionType | types.MethodType) and _MARKER in getattr(
                value, "__dict__", {}
            )
    return False


def new_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with the core hook specifications (no plugins registered)."""
    pm = PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    # historic: every plugin registered from now on gets agent_security_addhooks(pluginmanager=pm) at once
    pm.hook.agent_security_addhooks.call_historic(kwargs={"pluginmanager": pm})
    return pm


_REQUEST_CTX = ("request", "ctx")
_REQUEST_DECISION_CTX = ("request", "decision", "ctx")
_AFTER_EXECUTION = ("request", "decision", "result", "error", "ctx")
_EVENT = ("event",)
_HOOK_ARGS = {
    "agent_security_identify": _REQUEST_CTX,
    "agent_security_before_check": _REQUEST_CTX,
    "agent_security_evaluate": _REQUEST_CTX,
    "agent_security_after_decision": _REQUEST_DECISION_CTX,
    "agent_security_resolve": _REQUEST_DECISION_CTX,
    "agent_security_notify": _REQUEST_DECISION_CTX,
    "agent_security_after_execution": _AFTER_EXECUTION,
    "agent_security_audit_event": _EVENT,
}


@dataclass(frozen=True, slots=True)
class Impl:
    """One plugin's implementation of one check hook."""

    plugin_name: str
    plugin: Any
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    """The arguments it takes (pluggy's opt-in arguments: a subset of the hook's, in any order)."""
    positional: bool
    """It takes every argument of the hook, in the hook's order."""
    fail_open: bool
    """Its failures are reported and skipped instead of denying (``fail_open = True`` on the plugin)."""
    may_relax: bool
    """It may make an ``after_decision`` less restrictive (``may_relax = True``, registered explicitly)."""


class PluginFailure(Exception):
    """A hook implementation raised, timed out or broke the contract; ``error`` is what it did."""

    def __init__(self, impl: Impl, phase: str, error: BaseException) -> None:
        self.impl = impl
        self.phase = phase
        self.error = error
        super().__init__(f"{impl.plugin_name} failed during {phase}: {type(error).__name__}")


class Plan(NamedTuple):
    """Every check hook's implementations in calling order (see :mod:`agent_security.core.hookspecs`)."""

    identify: tuple[Impl, ...]
    before_check: tuple[Impl, ...]
    evaluate: tuple[Impl, ...]
    after_decision: tuple[Impl, ...]
    resolve: tuple[Impl, ...]
    notify: tuple[Impl, ...]
    after_execution: tuple[Impl, ...]
    audit_event: tuple[Impl, ...]


class HookRelay:
    """The plugin manager of one ``AgentSecurity`` and the typed calls into it (thread-safe)."""

    def __init__(self, pm: pluggy.PluginManager | None = None) -> None:
        self.pm = pm if pm is not None else new_plugin_manager()
        self._lock = threading.RLock()
        self._registration: dict[int, int] = {}
        self._explicit: set[int] = set()
        self._plan: Plan | None = None

    # -- registration ------------------------------------------------------------------------------
    def register(self, plugin: Any, *, name: str, explicit: bool) -> None:
        """Register ``plugin`` as ``name``; refuse a taken name, a wrapper on a check hook, or a hook
        implementation without a specification (the manager is left unchanged)."""
        with self._lock:
            if self.pm.get_plugin(name) is not None:
                raise PluginContractError(f"a plugin named {name!r} is already registered")
            self.pm.register(plugin, name=name)
            try:
                check_no_wrappers(self.pm, plugin)
                self.pm.check_pending()
            except Exception:
                self.pm.unregister(plugin)
                raise
            self._registration[id(plugin)] = len(self._registration)
            if explicit:
                self._explicit.add(id(plugin))
            self._plan = None

    def unregister(self, plugin: Any) -> None:
        with self._lock:
            self.pm.unregister(plugin)
            self._explicit.discard(id(plugin))
            self._plan = None

    def plugins_changed(self) -> None:
        """Forget the calling order (after plugins were registered by entry-point discovery)."""
        with self._lock:
            self._plan = None

    def get_plugin(self, name: str) -> Any:
        return self.pm.get_plugin(name)

    def plugins(self) -> list[tuple[str, Any]]:
        return list(self.pm.list_name_plugin())

    # -- calling order -----------------------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        """The implementations of every check hook in calling order, rebuilt after a plugin change."""
        plan = self._plan
        if plan is None:
            with self._lock:
                plan = self._plan = Plan(*(self._ordered(f"agent_security_{hook}") for hook in Plan._fields))
        return plan

    def _ordered(self, hook: str) -> tuple[Impl, ...]:
        expected = _HOOK_ARGS[hook]
        found = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            plugin = impl.plugin
            order = (
                0 if impl.tryfirst else 2 if impl.trylast else 1,
                getattr(plugin, "priority", 100),
                self._registration.get(id(plugin), -1),
            )
            argnames = tuple(impl.argnames)
            found.append(
                (
                    order,
                    Impl(
                        impl.plugin_name,
                        plugin,
                        impl.function,
                        argnames,
                        argnames == expected,
                        bool(getattr(plugin, "fail_open", False)),
                        bool(getattr(plugin, "may_relax", False)) and id(plugin) in self._explicit,
                    ),
                )
            )
        found.sort(key=lambda pair: pair[0])
        return tuple(impl for _, impl in found)

    # -- check hooks: one implementation at a time ---------------------------------------------------
    @staticmethod
    def _call(impl: Impl, phase: str, names: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        try:
            if impl.positional:
                return impl.function(*args)
            given = dict(zip(names, args, strict=True))
            return impl.function(**{name: given[name] for name in impl.argnames})
        except PROCESS_FATAL:
            raise
        except BaseException as exc:  # CancelledError / GeneratorExit raised by a plugin are its failure
            raise PluginFailure(impl, phase, exc) from exc

    def identify(self, impl: Impl, request: ActionRequest, ctx: CheckContext) -> Any:
        return self._call(impl, "identify", _REQUEST_CTX, (request, ctx))

    def before_check(self, impl: Impl, request: ActionRequest, ctx: CheckContext) -> Any:
        return self._call(impl, "before_check", _REQUEST_CTX, (request, ctx))

    def evaluate(self, impl: Impl, request: ActionRequest, ctx: CheckContext) -> Any:
        return self._call(impl, "evaluate", _REQUEST_CTX, (request, ctx))

    def after_decision(self, impl: Impl, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        return self._call(impl, "after_decision", _REQUEST_DECISION_CTX, (request, decision, ctx))

    def resolve(self, impl: Impl, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        return self._call(impl, "resolve", _REQUEST_DECISION_CTX, (request, decision, ctx))

    def notify(self, impl: Impl, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        return self._call(impl, "notify", _REQUEST_DECISION_CTX, (request, decision, ctx))

    def after_execution(
        self,
        impl: Impl,
        request: ActionRequest,
        decision: Decision,
        result: Any,
        error: BaseException | None,
        ctx: CheckContext,
    ) -> Any:
        return self._call(impl, "after_execution", _AFTER_EXECUTION, (request, decision, result, error, ctx))

    def audit_event(self, event: AuditEvent, report: Callable[[BaseException, str], None]) -> None:
        """Deliver ``event`` to every subscriber; every one runs even if another fails. Raises the first
        failure of a subscriber that is not ``fail_open`` (each failure is ``report``-ed)."""
        failure: PluginFailure | None = None
        for impl in self.plan.audit_event:
            try:
                self._call(impl, "audit_event", _EVENT, (event,))
            except PluginFailure as exc:
                report(exc.error, f"plugin:{impl.plugin_name}:audit_event")
                if not impl.fail_open and failure is None:
                    failure = exc
        if failure is not None:
            raise failure

    # -- distribution hooks ------------------------------------------------------------------------
    def plugin_info(self, loaded: list[LoadedPlugin]) -> list[PluginInfo]:
        """Every plugin's description, with the distribution and version discovery found it in."""
        by_name = {r.name: r for r in loaded}
        infos: list[PluginInfo] = []
        for info in self.pm.hook.agent_security_plugin_info():
            rec = by_name.get(info.name)
            if rec is not None:
                info = dataclasses.replace(info, distribution=rec.distribution, version=rec.version)
            infos.append(info)
        return infos

    def configure(self, host: Host, settings: Settings) -> None:
        self.pm.hook.agent_security_configure(host=host, settings=settings)

    def extension(self, name: str, kwargs: dict[str, Any]) -> list[Any]:
        """Call a hook a distribution added (``agent_security_addhooks``); ``[]`` when none is specified."""
        caller = getattr(self.pm.hook, name, None)
        if caller is None or not caller.has_spec():
            return []
        return list(caller(**kwargs))

    def cli(self, group: click.Group) -> None:
        self.pm.hook.agent_security_cli(cli=group)

    def shutdown(self, host: Host, report: Callable[[BaseException, str], None]) -> list[BaseException]:
        """Call every plugin's shutdown, whatever the others do; return the failures (each reported)."""
        errors: list[BaseException] = []
        for impl in self.pm.hook.agent_security_shutdown.get_hookimpls():
            try:
                impl.function(host=host) if "host" in impl.argnames else impl.function()
            except Exception as exc:
                report(exc, f"plugin:{impl.plugin_name}:shutdown")
                errors.append(exc)
        return errors
