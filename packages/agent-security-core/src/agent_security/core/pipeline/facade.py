"""``AgentSecurity``: the application's handle on the pipeline (construction, checks, lifecycle).

The facade assembles one :class:`~agent_security.core.pipeline.runtime.Runtime` (plugins, store, clock,
policy, audit trail) and delegates: checks to :mod:`.check`, result checks to :mod:`.results`,
``protect`` to :mod:`.protect`, audit events to :mod:`.events`. Plugins see it only through the
:class:`~agent_security.core.host.Host` it hands them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload

import pluggy

from agent_security.core.audit.sinks import MemoryAuditSink
from agent_security.core.clock import Clock, as_clock
from agent_security.core.config import Settings, load_settings
from agent_security.core.errors import ConfigurationError, PluginContractError, PluginError
from agent_security.core.host import Host, Mode
from agent_security.core.models import ActionRequest, AuditEvent, CheckResult, Outcome, Reason, ResultCheck
from agent_security.core.pipeline import assembly, events
from agent_security.core.pipeline.check import run_check
from agent_security.core.pipeline.drive import Workers, drive_async, drive_sync, run_coroutine_sync
from agent_security.core.pipeline.hooks import HookRelay
from agent_security.core.pipeline.owned import AuditCallbackSink, CallbacksPlugin, PolicyPlugin
from agent_security.core.pipeline.plugin_host import PluginHost
from agent_security.core.pipeline.policy_source import PolicySource
from agent_security.core.pipeline.protect import protect
from agent_security.core.pipeline.request import build_request
from agent_security.core.pipeline.results import DECIDED_ELSEWHERE, result_request, run_result_check
from agent_security.core.pipeline.runtime import Callbacks, Runtime
from agent_security.core.plugins import LoadedPlugin, PluginInfo, load_entry_points
from agent_security.core.store import Store

__all__ = ["AgentSecurity"]

P = ParamSpec("P")
R = TypeVar("R")


class AgentSecurity:
    """The runtime security pipeline for one application (thread-safe, sync and async).

    Policy sources, first given wins: ``policy_path``, ``policy_json`` (JSON or YAML text),
    ``policy_bundle``, ``policy_engine`` (any object with ``evaluate(request, now=...)``), ``policy_loader``
    (called by :meth:`init` / :meth:`ainit`), then ``[core] policy_path`` from the config file. With none,
    the built-in default bundle applies: every call is denied (``DEFAULT_DENY``).

    Callbacks may be plain or ``async`` functions; a callback that cannot take its documented arguments
    is refused here, with :class:`~agent_security.core.errors.ConfigurationError`:

    * ``on_approval_required(request, decision)``, and likewise ``on_step_up_required``,
      ``on_ticket_required``, ``on_human_required``: return ``True``/``False`` or a
      :class:`~agent_security.core.Resolution` (for REQUIRE_TICKET, the ticket id; ``None`` or ``""`` is
      no ticket). Anything else is DENY ``APPROVAL_INVALID_ANSWER``. Every wait is bounded by
      ``approval_timeout_s`` (default 300 s); at most ``max_pending_callbacks`` (default 32) plain callbacks
      wait at once, a further wait is refused at once (DENY ``APPROVAL_UNAVAILABLE``).
    * ``on_allow(request, decision)``, ``on_deny(request, decision)``: told the final decision.
    * ``on_audit_event(event)``: every audit event, in trail order.
    * ``on_error(error, where)``: every failure the pipeline handled (a plugin's, a sink's, ...).

    In ``mode="observe"`` every call is decided and audited but none is blocked: ``allowed`` is always
    True, ``would_block`` tells what enforce mode would have done, and approval callbacks are not called.
    ``clock`` is a :class:`~agent_security.core.clock.Clock` (or a function returning the current
    ``datetime``, with ``monotonic``); every built-in plugin and the default store read it.
    ``store`` is a :class:`~agent_security.core.store.Store` (the application's: it closes it) or a store URL
    (``"sqlite:///path"``, ``"redis://..."``: opened here on this instance's clock, closed at shutdown);
    by default ``[core] store``, else an in-memory store.
    """

    def __init__(
        self,
        *,
        policy_path: str | Path | None = None,
        policy_json: str | None = None,
        policy_bundle: Any = None,
        policy_loader: Callable[[], Any] | None = None,
        policy_engine: Any = None,
        plugins: Iterable[Any] = (),
        on_approval_required: Callable[..., Any] | None = None,
        on_step_up_required: Callable[..., Any] | None = None,
        on_ticket_required: Callable[..., Any] | None = None,
        on_human_required: Callable[..., Any] | None = None,
        on_allow: Callable[..., Any] | None = None,
        on_deny: Callable[..., Any] | None = None,
        on_audit_event: Callable[[AuditEvent], Any] | None = None,
        on_error: Callable[[BaseException, str], Any] | None = None,
        approval_timeout_s: float | None = None,
        hook_timeout_s: float = 30.0,
        max_pending_callbacks: int = 32,
        default_environment: str | None = None,
        default_owner: str | None = None,
        mode: Mode | None = None,
        config_path: str | Path | None = None,
        config: Mapping[str, Any] | None = None,
        store: Store | str | None = None,
        autoload: bool | None = None,
        trusted_policy_keys: Sequence[Any] | None = None,
        policy_hmac_secret: str | bytes | None = None,
        audit_sinks: Iterable[Any] = (),
        clock: Clock | Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        settings = load_settings(config_path, data=config)
        core = settings.core
        chosen_mode, timeout = assembly.check_options(
            core, mode, approval_timeout_s, hook_timeout_s, max_pending_callbacks
        )
        callbacks = Callbacks(
            on_approval_required,
            on_step_up_required,
            on_ticket_required,
            on_human_required,
            on_allow,
            on_deny,
            on_error,
        )
        assembly.check_callbacks(callbacks, on_audit_event)
        the_clock = as_clock(clock, monotonic)
        policy = PolicySource(
            path=policy_path,
            text=policy_json,
            bundle=policy_bundle,
            engine=policy_engine,
            loader=policy_loader,
            configured_path=core.policy_path,
            trusted_keys=assembly.trusted_keys(core, trusted_policy_keys),
            hmac_secret=policy_hmac_secret,
            clock=the_clock,
        )
        self._rt = rt = Runtime(
            relay=HookRelay(),
            store=assembly.default_store(core, the_clock, store) if store is None or isinstance(store, str) else store,
            clock=the_clock,
            mode=chosen_mode,
            settings=settings,
            policy=policy,
            callbacks=callbacks,
            approval_timeout_s=float(timeout),
            hook_timeout_s=float(hook_timeout_s),
            workers=Workers(max_pending_callbacks),
            default_environment=default_environment or core.default_environment or "unknown",
            default_owner=default_owner or "unknown",
        )
        self._owns_store = store is None or isinstance(store, str)
        self._host: Host = PluginHost(rt, self.register_plugin)
        rt.host = self._host
        self._discovered: set[str] = set()
        self._configuring = False

        # Plugins: the pipeline's own, the configured built-ins, the sinks, then discovery ------------------
        self._memory_sink = MemoryAuditSink(core.audit.memory_size)
        self._own = [PolicyPlugin(policy), CallbacksPlugin(callbacks), self._memory_sink]
        for obj in self._own:
            self._register(obj, explicit=True)
        from agent_security.core.builtin.config import configurators

        for configurator in configurators():
            self._register(configurator, explicit=True)
        sinks = [*assembly.durable_sinks(core), *audit_sinks]
        try:
            for sink in sinks:
                self._register(sink, explicit=True)
            if on_audit_event is not None:
                self._register(AuditCallbackSink(on_audit_event), explicit=True)
            rt.trail = assembly.open_trail(rt, core, sinks)
        except BaseException:
            assembly.close_all(sinks)  # do not leak the files and connections opened above
            raise
        plugin_cfg = core.plugins
        self.loaded_plugins: list[LoadedPlugin] = load_entry_points(
            rt.relay.pm,
            autoload=plugin_cfg.autoload if autoload is None else autoload,
            allow_distributions=plugin_cfg.allow_distributions,
            disabled=plugin_cfg.disabled,
        )
        rt.relay.plugins_changed()
        self.plugin_infos: list[PluginInfo] = rt.relay.plugin_info(self.loaded_plugins)
        assembly.validate_sections(self.plugin_infos, settings)
        self._configuring = True
        try:
            rt.relay.configure(self._host, settings)
        finally:
            self._configuring = False
        for obj in plugins:
            self.register_plugin(obj)
        self._lifecycle("startup")

    # -- properties --------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self._rt.mode

    @property
    def settings(self) -> Settings:
        return self._rt.settings

    @property
    def store(self) -> Store:
        return self._rt.store

    @property
    def clock(self) -> Clock:
        return self._rt.clock

    @property
    def host(self) -> Host:
        """What the plugins of this instance may use (see :class:`~agent_security.core.host.Host`)."""
        return self._host

    @property
    def approval_timeout_s(self) -> float:
        return self._rt.approval_timeout_s

    @property
    def hook_timeout_s(self) -> float:
        return self._rt.hook_timeout_s

    @property
    def default_environment(self) -> str:
        return self._rt.default_environment

    @property
    def default_owner(self) -> str:
        return self._rt.default_owner

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, for introspection (``list_name_plugin``, ``get_hookcallers``)."""
        return self._rt.relay.pm

    # -- policy ------------------------------------------------------------------------------------
    def init(self) -> None:
        """Load the policy from ``policy_loader`` (sync or async loader) if one was given."""
        policy = self._rt.policy
        if policy.loader is not None and not policy.ready:
            loaded = policy.loader()
            if inspect.isawaitable(loaded):
                loaded = run_coroutine_sync(loaded, self._rt.approval_timeout_s)
            policy.load_from_loader(loaded)
            self._lifecycle("policy_loaded", origin="loader")

    async def ainit(self) -> None:
        """:meth:`init` on the running loop (an ``async`` loader is awaited)."""
        policy = self._rt.policy
        if policy.loader is not None and not policy.ready:
            loaded = policy.loader()
            if inspect.isawaitable(loaded):
                loaded = await loaded
            policy.load_from_loader(loaded)
            self._lifecycle("policy_loaded", origin="loader")

    def reload_policy(self, source: Any = None, *, allow_rollback: bool = False) -> None:
        """Load a policy (``source``, else the original source or the loader) and swap it in atomically.

        A bundle whose ``generated_at`` is older than the active bundle's is refused with
        :class:`~agent_security.core.errors.PolicyRollbackError` (an older, validly signed bundle must not
        be replayed), unless ``allow_rollback``. A failing load raises and leaves the active policy in
        place; both outcomes are audited.
        """
        self._rt.ensure_open()
        policy = self._rt.policy
        try:
            src = policy.source_for_reload(source)
            if src is None and policy.loader is not None:
                src = policy.loader()
                if inspect.isawaitable(src):
                    src = run_coroutine_sync(src, self._rt.approval_timeout_s)
            self._install(src, allow_rollback)
        except Exception as exc:
            self._reload_failed(exc)
            raise
        self._lifecycle("policy_loaded", origin="reload")

    async def reload_policy_async(
        self, loader: Callable[[], Any] | None = None, *, allow_rollback: bool = False
    ) -> None:
        """:meth:`reload_policy` from ``loader`` (else the instance's source or loader), awaited when it is
        ``async``: Agent-SPM's ``reloadPolicyAsync(loader)``."""
        self._rt.ensure_open()
        policy = self._rt.policy
        try:
            load = loader if loader is not None else policy.loader
            src = load() if load is not None else policy.source_for_reload(None)
            if inspect.isawaitable(src):
                src = await src
            self._install(src, allow_rollback)
        except Exception as exc:
            self._reload_failed(exc)
            raise
        self._lifecycle("policy_loaded", origin="reload")

    def _install(self, src: Any, allow_rollback: bool) -> None:
        if src is None:
            raise ConfigurationError("no policy source to reload from")
        policy = self._rt.policy
        policy.swap(policy.build(src), allow_rollback=allow_rollback)

    def _reload_failed(self, exc: Exception) -> None:
        events.error_event(self._rt, "POLICY_RELOAD_FAILED", f"{type(exc).__name__}: {exc}")
        self._rt.report(exc, "reload_policy")

    def get_policy_bundle(self) -> Any:
        self._rt.ensure_initialized()
        return self._rt.policy.bundle

    # -- plugins -----------------------------------------------------------------------------------
    def _register(self, obj: Any, *, name: str | None = None, explicit: bool) -> str:
        plugin_name = name or getattr(obj, "name", None) or type(obj).__name__
        self._rt.relay.register(obj, name=plugin_name, explicit=explicit)
        return plugin_name

    def register_plugin(self, plugin: Any, *, name: str | None = None) -> str:
        """Add a plugin object (anything with ``@hookimpl`` methods); returns its registered name.

        An object registered by the application under the name of a plugin a distribution configured
        (``AgentSecurity(plugins=[egress_enforcer(...)])`` with agent-security-egress installed) replaces
        it, and the replacement is audited. A plugin with ``bind_host(host)`` is handed the
        :class:`~agent_security.core.host.Host` now, and one with ``bind_store(store)`` the store, so its
        state is shared from the start.
        """
        self._rt.ensure_open()
        relay = self._rt.relay
        plugin_name = name or getattr(plugin, "name", None) or type(plugin).__name__
        replaced = None
        if not self._configuring and plugin_name in self._discovered and relay.get_plugin(plugin_name) is not None:
            replaced = relay.get_plugin(plugin_name)
            relay.unregister(replaced)
        try:
            self._register(plugin, name=plugin_name, explicit=True)
        except Exception:
            if replaced is not None:
                self._register(replaced, name=plugin_name, explicit=True)
            raise
        if self._configuring:
            self._discovered.add(plugin_name)
        else:
            self._discovered.discard(plugin_name)
        if not inspect.ismodule(plugin):
            bind_host = getattr(plugin, "bind_host", None)
            if callable(bind_host):
                bind_host(self._host)
            bind_store = getattr(plugin, "bind_store", None)
            if callable(bind_store):
                bind_store(self._rt.store)
        if replaced is not None:
            self._lifecycle(
                "plugin_replaced", plugin=plugin_name, replaced=type(replaced).__name__, by=type(plugin).__name__
            )
        return plugin_name

    def unregister_plugin(self, name: str) -> Any:
        """Remove a plugin by name; returns it (or ``None``). The policy and callbacks plugins stay."""
        relay = self._rt.relay
        plugin = relay.get_plugin(name)
        if plugin is None:
            return None
        if plugin in self._own[:2]:
            raise PluginContractError(f"the built-in plugin {name!r} cannot be removed")
        relay.unregister(plugin)
        return plugin

    def get_plugin(self, name: str) -> Any:
        return self._rt.relay.get_plugin(name)

    def list_plugins(self) -> list[str]:
        return [name for name, _ in self._rt.relay.plugins()]

    # -- audit -------------------------------------------------------------------------------------
    def _lifecycle(self, what: str, **extra: Any) -> None:
        data: dict[str, Any] = {"lifecycle": what, **extra}
        bundle = self._rt.policy.bundle
        if what in ("startup", "policy_loaded") and bundle is not None:
            data["policy"] = {
                "version": str(getattr(bundle, "version", "")),
                "rules": len(getattr(bundle, "rules", ()) or ()),
            }
        if what == "startup":
            data["plugins"] = [r.as_dict() for r in self.loaded_plugins]
            data["registered"] = self.list_plugins()
            data["mode"] = self._rt.mode
        events.lifecycle_event(self._rt, data)

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
        """Append a namespaced event (``guardian.incident``) to the audit trail; see
        :meth:`agent_security.core.host.Host.record_event`."""
        return self._host.record_event(
            kind,
            data,
            agent_id=agent_id,
            request_id=request_id,
            tool_name=tool_name,
            environment=environment,
            outcome=outcome,
            reasons=reasons,
        )

    def get_audit_log(self) -> list[AuditEvent]:
        """The events held by the in-memory ring (bounded by ``[core.audit] memory_size``)."""
        return self._memory_sink.events()

    def clear_audit_log(self) -> None:
        """Empty the in-memory ring (:meth:`get_audit_log`). The trail and durable sinks are untouched:
        the chain goes on where it was."""
        self._memory_sink.clear()

    # -- checks ------------------------------------------------------------------------------------
    def build_request(self, **fields: Any) -> ActionRequest:
        """The :class:`ActionRequest` :meth:`check_tool_call` would decide for these fields (validated,
        arguments deep-copied and bounded). Raises ``InvalidRequest`` for a field it would deny."""
        return build_request(self._rt.defaults, self._rt.clock.now(), **fields)

    def check_tool_call(self, **params: Any) -> CheckResult:
        """Decide one tool call. Never raises for a denial; a field of the wrong type or size is DENY
        ``INVALID_REQUEST``. Fields: ``tool_name``, ``agent_id``, ``tool_args``, ``agent_name``,
        ``environment``, ``owner``, ``action_type``, ``user_input``, ``data_labels``, ``risk_hints``,
        ``session_id``, ``trace_id``, ``parent_agent_id``, ``agent_type``, ``trust_level``, ``roles``,
        ``capabilities``, ``max_delegation_depth``, ``attestation``, ``tool_identity``,
        ``delegation_chain``, ``context``."""
        return drive_sync(run_check(self._rt, params))

    async def acheck_tool_call(self, **params: Any) -> CheckResult:
        """Asynchronous :meth:`check_tool_call`: ``async def`` hooks and callbacks are awaited on the
        running loop and plain blocking callbacks run in a worker thread."""
        return await drive_async(run_check(self._rt, params))

    def check_request(self, request: ActionRequest) -> CheckResult:
        """Decide an already-built :class:`ActionRequest`."""
        return drive_sync(run_check(self._rt, None, request))

    async def acheck_request(self, request: ActionRequest) -> CheckResult:
        return await drive_async(run_check(self._rt, None, request))

    def check_result(
        self, result: Any = None, *, check: CheckResult | None = None, error: BaseException | None = None, **fields: Any
    ) -> ResultCheck:
        """Check what a tool returned (``result``) or raised (``error``) before the agent sees it: plugins
        may redact it or withhold it (the ``after_execution`` phase). Give the call's ``check`` (the
        :class:`CheckResult` of :meth:`check_tool_call`) or, when it was decided elsewhere (a hook in
        another process), the call's fields as for :meth:`check_tool_call`. Never raises for a withheld
        result: see :class:`~agent_security.core.models.ResultCheck`."""
        return drive_sync(self._result_check(result, check, error, fields))

    async def acheck_result(
        self, result: Any = None, *, check: CheckResult | None = None, error: BaseException | None = None, **fields: Any
    ) -> ResultCheck:
        """Asynchronous :meth:`check_result`."""
        return await drive_async(self._result_check(result, check, error, fields))

    def _result_check(
        self, result: Any, check: CheckResult | None, error: BaseException | None, fields: Mapping[str, Any]
    ) -> Generator[Any, Any, ResultCheck]:
        self._rt.ensure_open()
        if check is not None:
            if fields:
                raise TypeError("check_result takes either check= or the call's fields, not both")
            return run_result_check(self._rt, check.request, check.final_decision, check.request_hash, result, error)
        request, denial = result_request(self._rt, fields)
        return run_result_check(self._rt, request, DECIDED_ELSEWHERE, None, result, error, denial)

    # -- protect -----------------------------------------------------------------------------------
    @overload
    def protect(self, tool_name: str, fn: Callable[P, R], /, **options: Any) -> Callable[P, R]: ...

    @overload
    def protect(
        self, tool_name: str, fn: None = None, /, **options: Any
    ) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def protect(self, tool_name: str, fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
        """Guard a function: as a wrapper ``security.protect("send_email", send)`` or a decorator
        ``@security.protect("send_email", agent_id="mailer")``. Works for sync and async functions.

        Options: every :meth:`check_tool_call` field except ``tool_name``/``tool_args`` (``agent_id``
        defaults to ``"protected-function"``), and ``extract_tool_args(*args, **kwargs) -> dict``. Without
        it the arguments are bound to the function's parameter names. A blocked call raises
        :class:`~agent_security.core.errors.SecurityError`; the tool's result then passes the result check,
        and so does an exception it raises (which a plugin may withhold or replace with a sanitised one).
        """
        if fn is None:
            return lambda f: self.protect(tool_name, f, **options)
        return protect(self._rt, tool_name, fn, dict(options))

    # -- lifecycle ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop accepting checks, flush the audit trail and release every plugin's resources.

        Every plugin's shutdown runs even if one fails; the failures are then raised together.
        """
        rt = self._rt
        if rt.closed:
            return
        self._lifecycle("shutdown")
        rt.closed = True
        rt.workers.shutdown()
        errors: list[BaseException] = []
        try:
            rt.trail.close()  # the final signed checkpoint goes out while the sinks are still open
        except Exception as exc:
            errors.append(exc)
        errors.extend(rt.relay.shutdown(self._host, rt.report))
        if self._owns_store:  # opened here: closed here (a store the application passed is its own)
            try:
                rt.store.close()
            except Exception as exc:
                errors.append(exc)
        for _, obj in rt.relay.plugins():
            close = getattr(obj, "close", None)
            if callable(close) and not inspect.ismodule(obj):
                try:
                    close()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise PluginError(
                f"{len(errors)} plugin(s) failed to shut down: " + "; ".join(f"{type(e).__name__}: {e}" for e in errors)
            )

    async def ashutdown(self) -> None:
        import asyncio

        await asyncio.to_thread(self.shutdown)

    def __enter__(self) -> AgentSecurity:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()

    async def __aenter__(self) -> AgentSecurity:
        await self.ainit()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.ashutdown()
