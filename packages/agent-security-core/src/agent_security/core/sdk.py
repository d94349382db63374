"""``AgentSecurity``: the check pipeline every tool call goes through.

Phases, in order (see :mod:`agent_security.core.hookspecs` for each hook's contract)::

    build request -> identify -> before_check -> evaluate -> after_decision -> audit
                  -> resolve (approval callbacks, bounded by approval_timeout_s) -> audit -> notify
    (tool runs, through protect())  -> after_execution -> audit

The pipeline is written once, as a generator that yields whenever it must wait (an ``async def`` hook,
an approval callback). :meth:`AgentSecurity.check_tool_call` drives it synchronously and
:meth:`AgentSecurity.acheck_tool_call` drives it on the running event loop, so the two entry points
cannot drift apart. No lock is held while a callback runs: a pending approval never blocks other checks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import itertools
import threading
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, ParamSpec, TypeVar, overload

import pluggy
from pydantic import BaseModel, ValidationError

from agent_security.core._drive import (
    _CLOSING,
    _FATAL,
    _PROCESS_FATAL,
    Saturated,
    Workers,
    _Blocking,
    _Cancelled,
    _drive_async,
    _drive_sync,
    _run_coroutine_sync,
    _Timeout,
    _Wait,
)
from agent_security.core._fast import FieldsSet, field_values, trusted, trusted_copy
from agent_security.core._owned import _AuditCallbackSink, _CallbacksPlugin, _PolicyPlugin
from agent_security.core._util import (
    MAX_STRING,
    InputTooLarge,
    InvalidArguments,
    freeze_json,
    remember,
    request_hash,
    same_json,
)
from agent_security.core.audit.keys import AuditSigner
from agent_security.core.audit.sinks import JsonlAuditSink, MemoryAuditSink, SqliteAuditSink
from agent_security.core.audit.trail import AuditTrail
from agent_security.core.config import ConfigSection, Settings, load_settings
from agent_security.core.context import CheckContext
from agent_security.core.errors import (
    ConfigurationError,
    PluginContractError,
    PluginError,
    PolicyRollbackError,
    SecurityError,
)
from agent_security.core.files import MAX_KEY_FILE_BYTES, read_bounded
from agent_security.core.models import (
    APPROVAL_LIKE,
    SCHEMA_VERSION,
    Action,
    ActionRequest,
    AgentAttestation,
    AgentInfo,
    AuditEvent,
    CheckResult,
    Decision,
    ExecutionResult,
    Outcome,
    PluginResult,
    Reason,
    RequestContext,
    ToolIdentity,
    new_id,
    restrictiveness,
    utcnow,
)
from agent_security.core.plugins import (
    LoadedPlugin,
    PluginInfo,
    check_no_wrappers,
    load_entry_points,
    make_plugin_manager,
)
from agent_security.core.resolution import GATES, Resolution
from agent_security.core.store import MemoryStore, Store

__all__ = ["AgentSecurity", "request_hash"]

P = ParamSpec("P")
R = TypeVar("R")
Mode = Literal["enforce", "observe"]

DEFAULT_APPROVAL_TIMEOUT_S = 300.0

# Hook argument names, in the order the hot path passes them (see _call_hook).
_REQUEST_CTX = ("request", "ctx")
_REQUEST_DECISION_CTX = ("request", "decision", "ctx")
_AFTER_EXECUTION_ARGS = ("request", "decision", "result", "error", "ctx")
_EVENT_ARG = ("event",)
_HOOK_ARGS = {names: names for names in (_REQUEST_CTX, _REQUEST_DECISION_CTX, _AFTER_EXECUTION_ARGS, _EVENT_ARG)}
"""Each of those tuples, by value: an implementation that takes exactly these arguments gets the very tuple
as its ``argnames`` (an identity test on the hot path)."""
_MISSING = object()  # a key absent from a mapping (None is a value)
# Read once: on Python 3.11 every read of an Enum class attribute (``Outcome.ALLOW``) goes through
# EnumType.__getattr__'s slow lookup, about ten times the cost of reading a global.
_ALLOW = Outcome.ALLOW
_DENY = Outcome.DENY

# model_fields_set of the models the pipeline builds with agent_security.core._fast.trusted: what the
# validating constructors would mark as set for the same call (each shared by every instance: FieldsSet).
_REQUEST_FIELDS = FieldsSet({"request_id", "timestamp", "agent", "action", "context"})
_ACTION_FIELDS = FieldsSet({"type", "tool_name", "tool_args"})
_RESULT_FIELDS = FieldsSet({"allowed", "decision", "final_decision", "event", "events", "request", "request_hash",
                            "tool_args", "would_block"})
_REASON_FIELDS = FieldsSet({"code", "message"})
_REASON_UPDATE = frozenset({"reasons", "outcome"})
# The fields a validating AuditEvent(...) call in _event marks as set.
_EVENT_FIELDS_SET = FieldsSet({"kind", "request_id", "agent_id", "tool_name", "environment", "outcome", "allowed",
                               "reasons", "plugin_source", "mode", "request_hash", "timestamp", "data",
                               "event_id"})
# The fields the audit trail fills in, and what _event's shortcut marks as set (AuditTrail.record(owned=)).
_CHAINED_FIELDS = frozenset({"sequence", "prev_hash", "timestamp", "data", "hash"})
_EVENT_FIELDS_CHAINED = FieldsSet(_EVENT_FIELDS_SET | _CHAINED_FIELDS)

_PLAIN: frozenset[type] = frozenset({str, type(None)})
"""Exact types a ``str | None`` field's validator keeps unchanged (``None`` or an exact ``str``)."""

_MAX_SHARED_PARTS = 1024
"""How many distinct agents, and request contexts, an instance keeps built (``_plain_request``)."""
_MAX_SHARED_INPUT = 1024
"""A request context whose ``user_input`` is longer is built for its request only."""


def _with_reason(decision: Decision, code: str, message: str, *, outcome: Outcome) -> Decision:
    """``decision.with_reason(code, message, outcome=outcome)``, without re-validating what is checked here
    (the resolve phase's answers: one more reason, a new outcome)."""
    if (type(decision) is Decision and type(decision.reasons) is tuple and type(code) is str
            and type(message) is str and type(outcome) is Outcome):
        reason = trusted(Reason, {"code": code, "message": message}, _REASON_FIELDS)
        return trusted_copy(decision, {"reasons": (*decision.reasons, reason), "outcome": outcome}, _REASON_UPDATE)
    return decision.with_reason(code, message, outcome=outcome)


MAX_TOOL_NAME = 256
_NONCE_TTL_S = 7 * 86_400.0
"""How long a consumed approval nonce is remembered (a replay after that is beyond any approval's life)."""
MAX_ID_CHARS = 1024
"""Longest identifier-like request field (agent id, session id, environment, a label, a role, ...)."""
MAX_LIST_ITEMS = 1024
"""Most items in a list-like request field (data labels, roles, delegation chain, ...)."""

def _refuse_rollback(active: Any, new: Any) -> None:
    """Raise :class:`PolicyRollbackError` when ``new``'s bundle was generated before ``active``'s."""
    old_bundle: Any = getattr(active, "bundle", None)
    new_bundle: Any = getattr(new, "bundle", None)
    old_at = getattr(old_bundle, "generated_at_dt", None)
    new_at = getattr(new_bundle, "generated_at_dt", None)
    if isinstance(old_at, datetime) and isinstance(new_at, datetime) and new_at < old_at:
        raise PolicyRollbackError(
            f"refusing to reload policy bundle {new_bundle.version!r} generated at {new_bundle.generated_at}: "
            f"it is older than the active bundle {old_bundle.version!r} generated at {old_bundle.generated_at} "
            "(a rollback; pass allow_rollback=True to load an older bundle on purpose)")


def _bound_fields(fields: Mapping[str, Any]) -> None:
    """Refuse identifier-like strings and lists past the documented bounds (InputTooLarge: a DENY).

    Every one of them reaches store keys, the audit trail or the policy engine, and most are chosen by
    the caller (session ids, labels), so none may be unbounded. ``user_input`` may be as long as one
    argument string.
    """
    for key, value in fields.items():
        if key == "user_input":
            if isinstance(value, str) and len(value) > MAX_STRING:
                raise InputTooLarge(f"user_input is longer than {MAX_STRING} characters")
        elif isinstance(value, str):
            if len(value) > MAX_ID_CHARS:
                raise InputTooLarge(f"{key} is longer than {MAX_ID_CHARS} characters")
        elif isinstance(value, tuple | list):
            if len(value) > MAX_LIST_ITEMS:
                raise InputTooLarge(f"{key} has more than {MAX_LIST_ITEMS} items")
            if any(isinstance(v, str) and len(v) > MAX_ID_CHARS for v in value):
                raise InputTooLarge(f"an item of {key} is longer than {MAX_ID_CHARS} characters")


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Impl:
    plugin_name: str
    plugin: Any
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    fail_open: bool
    may_relax: bool


def _call_hook(impl: _Impl, phase: str, names: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    """Call one implementation with the hook's arguments ``args`` (named ``names``), synchronously;
    failures raise :class:`_PluginFailure`. The hot path of every check: an implementation that takes
    every argument in the hook's order (the usual case: its ``argnames`` is then the very tuple ``names``,
    see :meth:`AgentSecurity._impls`) is called positionally. A result that is neither ``None`` nor a
    model must then go through :meth:`AgentSecurity._await_hook`."""
    try:
        if impl.argnames is names:
            return impl.function(*args)
        kwargs = dict(zip(names, args, strict=True))
        return impl.function(**{k: kwargs[k] for k in impl.argnames})
    except _PROCESS_FATAL:
        raise
    except BaseException as exc:  # CancelledError / GeneratorExit raised by a plugin are its failure
        raise _PluginFailure(impl, phase, exc) from exc


class _Plan(NamedTuple):
    """The implementations of each check hook, in calling order (see :meth:`AgentSecurity._get_plan`)."""

    agent_security_identify: tuple[_Impl, ...]
    agent_security_before_check: tuple[_Impl, ...]
    agent_security_evaluate: tuple[_Impl, ...]
    agent_security_after_decision: tuple[_Impl, ...]
    agent_security_notify: tuple[_Impl, ...]
    agent_security_audit_event: tuple[_Impl, ...]


class _PluginFailure(Exception):
    def __init__(self, impl: _Impl, phase: str, error: BaseException) -> None:
        self.impl = impl
        self.phase = phase
        self.error = error
        super().__init__(f"{impl.plugin_name} failed during {phase}: {type(error).__name__}")


# ------------------------------------------------------------------------------------------------
# AgentSecurity
# ------------------------------------------------------------------------------------------------


class AgentSecurity:
    """The runtime security pipeline for one application (thread-safe, sync and async).

    Policy sources, first given wins: ``policy_path``, ``policy_json``, ``policy_bundle``,
    ``policy_engine`` (any object with ``evaluate(request, now=...)``), ``policy_loader`` (called by
    :meth:`init` / :meth:`ainit`), then ``[core] policy_path`` from the config file. With none, the
    built-in default bundle applies: every call is denied (``DEFAULT_DENY``) until a policy says
    otherwise.

    Callbacks may be plain or ``async`` functions. Approval-like callbacks receive ``(request,
    decision)`` and return a bool, a :class:`~agent_security.core.Resolution` (optionally bound to
    :func:`request_hash`), or for REQUIRE_TICKET the ticket id (``None`` or ``""`` is no ticket).
    Every wait is bounded by ``approval_timeout_s`` (default 300 s); no answer in time is a DENY.
    At most ``max_pending_callbacks`` (default 32) plain callbacks of this instance wait at once; a
    further wait is refused at once with DENY ``APPROVAL_UNAVAILABLE`` instead of queueing.

    In ``mode="observe"`` every call is decided and audited but none is blocked: ``allowed`` is always
    True, ``would_block`` tells what enforce mode would have done, and approval callbacks are not called.
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
        store: Store | None = None,
        autoload: bool | None = None,
        trusted_policy_keys: Sequence[Any] | None = None,
        policy_hmac_secret: str | bytes | None = None,
        audit_sinks: Iterable[Any] = (),
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._settings = load_settings(config_path, data=config)
        core = self._settings.core
        self._mode: Mode = mode or core.mode
        if self._mode not in ("enforce", "observe"):
            raise ConfigurationError(f"mode must be 'enforce' or 'observe', not {self._mode!r}")
        timeout = core.approval_timeout_s if approval_timeout_s is None else approval_timeout_s
        if not (isinstance(timeout, int | float) and 0 < timeout <= 86_400):
            raise ConfigurationError("approval_timeout_s must be a number of seconds in (0, 86400]")
        self.approval_timeout_s = float(timeout)
        if not (isinstance(hook_timeout_s, int | float) and 0 < hook_timeout_s <= 3600):
            raise ConfigurationError("hook_timeout_s must be a number of seconds in (0, 3600]")
        self.hook_timeout_s = float(hook_timeout_s)
        if isinstance(max_pending_callbacks, bool) or not isinstance(max_pending_callbacks, int) \
                or not 1 <= max_pending_callbacks <= 4096:
            raise ConfigurationError("max_pending_callbacks must be an integer in [1, 4096]")
        # Threads for blocking callbacks (approvals waiting on a human): past the limit a wait is refused
        # at once (APPROVAL_UNAVAILABLE) instead of queueing behind callbacks that may take minutes.
        self._workers = Workers(max_pending_callbacks)
        """Upper bound on an ``async def`` check hook (and on any hook's wait for a worker thread)."""
        self.default_environment = default_environment or core.default_environment or "unknown"
        self.default_owner = default_owner or "unknown"
        self._clock = clock or utcnow
        self._monotonic = monotonic or time.monotonic
        self.store: Store = store if store is not None else MemoryStore()

        self._on_approval_required = on_approval_required
        self._on_step_up_required = on_step_up_required
        self._on_ticket_required = on_ticket_required
        self._on_human_required = on_human_required
        self._on_allow = on_allow
        self._on_deny = on_deny
        self._on_error = on_error

        self._lock = threading.RLock()
        self._closed = False
        # Frozen request parts that depend only on plain strings (see _plain_request): the same agent or
        # session context comes back on most checks, so it is built once. Bounded (cleared when full).
        self._agents: dict[tuple[str | None, ...], AgentInfo] = {}
        self._contexts: dict[tuple[str | None, ...], RequestContext] = {}
        self._impl_cache: dict[str, tuple[_Impl, ...]] = {}
        self._plan: _Plan | None = None
        self._registration: dict[int, int] = {}
        self._explicit: set[int] = set()

        # Policy ------------------------------------------------------------------------------
        self._trusted_keys = list(trusted_policy_keys or [])
        for key_path in core.trusted_policy_keys:
            self._trusted_keys.append(read_bounded(key_path, MAX_KEY_FILE_BYTES, what="trusted policy key"))
        if trusted_policy_keys is not None and not self._trusted_keys:
            raise ConfigurationError("trusted_policy_keys is an empty list, so no policy signature could be "
                                     "verified; give at least one key, or None for unsigned policies")
        self._hmac_secret = policy_hmac_secret
        self._policy_loader = policy_loader
        self._policy_source: Any = None
        self._engine: Any = None
        self._builtin_engine: Any = None
        if policy_path is not None:
            self._policy_source = Path(policy_path)
        elif policy_json is not None:
            self._policy_source = policy_json
        elif policy_bundle is not None:
            self._policy_source = policy_bundle
        elif policy_engine is None and policy_loader is None and core.policy_path:
            self._policy_source = Path(core.policy_path)
        if policy_engine is not None:
            self._engine = policy_engine
        elif self._policy_source is not None:
            self._engine = self._build_engine(self._policy_source)
        elif policy_loader is None:
            from agent_security.core.policy import PolicyEngine, default_policy_bundle

            self._engine = PolicyEngine(default_policy_bundle())
            self._builtin_engine = self._engine  # dated now: no floor for the first real bundle
        self._initialized = self._engine is not None

        # Plugins -----------------------------------------------------------------------------
        self._pm: pluggy.PluginManager = make_plugin_manager()
        self._memory_sink = MemoryAuditSink(core.audit.memory_size)
        self._builtin = [_PolicyPlugin(self), _CallbacksPlugin(self), self._memory_sink]
        for obj in self._builtin:
            self._register(obj, explicit=True)
        from agent_security.core.builtin.config import configurators

        for configurator in configurators():
            self._register(configurator, explicit=True)
        durable: list[SqliteAuditSink | JsonlAuditSink] = []
        if core.audit.sqlite_path:
            durable.append(SqliteAuditSink(core.audit.sqlite_path, name="audit_sqlite"))
        if core.audit.jsonl_path:
            durable.append(JsonlAuditSink(core.audit.jsonl_path, name="audit_jsonl"))
        sinks = [*durable, *audit_sinks]
        try:
            for sink in sinks:
                self._register(sink, explicit=True)
            if on_audit_event is not None:
                self._register(_AuditCallbackSink(on_audit_event), explicit=True)
            signer = (AuditSigner.from_pem(read_bounded(core.audit.signing_key_path, MAX_KEY_FILE_BYTES,
                                                        what="audit signing key"))
                      if core.audit.signing_key_path else None)
            self._trail = self._open_trail(sinks, signer, core.audit.sign_every)
        except BaseException:
            for sink in sinks:  # do not leak the files and connections opened above
                close = getattr(sink, "close", None)
                if callable(close):
                    close()
            raise

        plugin_cfg = core.plugins
        self.loaded_plugins: list[LoadedPlugin] = load_entry_points(
            self._pm,
            autoload=plugin_cfg.autoload if autoload is None else autoload,
            allow_distributions=plugin_cfg.allow_distributions,
            disabled=plugin_cfg.disabled,
        )
        self._invalidate()
        self.plugin_infos: list[PluginInfo] = self._collect_infos()
        declared: dict[str, ConfigSection] = {}
        for i in self.plugin_infos:
            if not (i.config_section and i.config_model):
                continue
            if i.config_section in declared or i.config_section == "core":
                owner = declared[i.config_section].plugin if i.config_section in declared else "core"
                raise ConfigurationError(f"plugins {owner!r} and {i.name!r} both declare the config section "
                                         f"{i.config_section!r}")
            declared[i.config_section] = ConfigSection(i.config_section, i.config_model, i.name)
        self._settings.validate_sections(declared)
        self._pm.hook.agent_security_configure(security=self, settings=self._settings)
        for obj in plugins:
            self.register_plugin(obj)
        self._record_lifecycle("startup")

    def _open_trail(self, sinks: Sequence[Any], signer: AuditSigner | None, sign_every: int) -> AuditTrail:
        """Continue the chain a durable sink already holds; refuse sinks whose chains disagree."""
        links = {}
        for sink in sinks:
            last_link = getattr(sink, "last_link", None)
            if callable(last_link):
                links[getattr(sink, "name", type(sink).__name__)] = last_link()
        heads = set(links.values())
        if len(heads) > 1:
            raise ConfigurationError(f"audit sinks hold different chains and cannot be continued together: {links}")
        head = next(iter(heads), None)
        if head is None:
            return AuditTrail(self._dispatch_audit, signer=signer, sign_every=sign_every, clock=self._clock)
        return AuditTrail(self._dispatch_audit, signer=signer, sign_every=sign_every, clock=self._clock,
                          last_sequence=head[0], last_hash=head[1])

    # -- properties ------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        return self._pm

    # -- policy ----------------------------------------------------------------------------------
    def _build_engine(self, source: Any) -> Any:
        from agent_security.core.policy import PolicyEngine, load_policy

        if isinstance(source, str) and not source.lstrip().startswith(("{", "[")) and "\n" in source:
            from agent_security.core.policy import load_policy_yaml  # YAML text passed as policy_json

            bundle = load_policy_yaml(source, trusted_keys=self._trusted_keys or None,
                                      hmac_secret=self._hmac_secret, now=self._clock())
        else:
            bundle = load_policy(source, trusted_keys=self._trusted_keys or None, hmac_secret=self._hmac_secret,
                                 now=self._clock())
        return PolicyEngine(bundle)

    def init(self) -> None:
        """Load the policy from ``policy_loader`` (sync or async loader) if one was given."""
        if self._policy_loader is not None and not self._initialized:
            loaded = self._policy_loader()
            if inspect.isawaitable(loaded):
                loaded = _run_coroutine_sync(loaded, self.approval_timeout_s)
            self._swap_engine(self._build_engine(loaded), origin="loader")
            self._initialized = True

    async def ainit(self) -> None:
        if self._policy_loader is not None and not self._initialized:
            loaded = self._policy_loader()
            if inspect.isawaitable(loaded):
                loaded = await loaded
            self._swap_engine(self._build_engine(loaded), origin="loader")
            self._initialized = True

    def reload_policy(self, source: Any = None, *, allow_rollback: bool = False) -> None:
        """Load a policy (``source``, else the original source) and swap it in atomically.

        A bundle whose ``generated_at`` is older than the active bundle's is refused with
        :class:`~agent_security.core.errors.PolicyRollbackError` (an older, validly signed bundle must not
        be replayed), unless ``allow_rollback``; the same ``generated_at`` is fine.
        A failing load raises and leaves the active policy in place; both outcomes are audited.
        """
        self._ensure_open()
        try:
            src = source if source is not None else self._policy_source
            if src is None and self._policy_loader is not None:
                src = self._policy_loader()
                if inspect.isawaitable(src):
                    src = _run_coroutine_sync(src, self.approval_timeout_s)
            if src is None:
                raise ConfigurationError("no policy source to reload from")
            engine = self._build_engine(src)
            with self._lock:  # checked and swapped together: a concurrent reload cannot slip in between
                if not allow_rollback and self._engine is not self._builtin_engine:
                    _refuse_rollback(self._engine, engine)
                self._engine = engine
        except Exception as exc:  # whatever failed (the loader, the file, the engine): audited, old policy kept
            self._record(AuditEvent(kind="error", reasons=(Reason(
                code="POLICY_RELOAD_FAILED", message=f"{type(exc).__name__}: {exc}"[:500]),)))
            self._report(exc, "reload_policy")
            raise
        self._record_lifecycle("policy_loaded", origin="reload")

    def _swap_engine(self, engine: Any, *, origin: str) -> None:
        with self._lock:
            self._engine = engine
        self._record_lifecycle("policy_loaded", origin=origin)

    def get_policy_bundle(self) -> Any:
        self._ensure_initialized()
        return getattr(self._engine, "bundle", None)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError("this AgentSecurity has been shut down")

    def _ensure_initialized(self) -> None:
        if not self._initialized:
            raise ConfigurationError(
                "AgentSecurity is not initialized: call init() or await ainit() when using policy_loader")

    # -- plugins ---------------------------------------------------------------------------------
    def _register(self, obj: Any, *, name: str | None = None, explicit: bool) -> str:
        plugin_name = name or getattr(obj, "name", None) or type(obj).__name__
        with self._lock:
            if self._pm.get_plugin(plugin_name) is not None:
                raise PluginContractError(f"a plugin named {plugin_name!r} is already registered")
            self._pm.register(obj, name=plugin_name)
            try:
                check_no_wrappers(self._pm, obj)
                self._pm.check_pending()
            except Exception:
                self._pm.unregister(obj)
                raise
            self._registration[id(obj)] = len(self._registration)
            if explicit:
                self._explicit.add(id(obj))
            self._invalidate()
        return plugin_name

    def register_plugin(self, plugin: Any, *, name: str | None = None) -> str:
        """Add a plugin object (anything with ``@hookimpl`` methods); returns its registered name.

        A plugin with a ``bind_store(store)`` method (the built-ins) is bound to this instance's store
        now, so that its state is shared from the start, not from its first check.
        """
        self._ensure_open()
        registered = self._register(plugin, name=name, explicit=True)
        bind = getattr(plugin, "bind_store", None)
        if callable(bind) and not inspect.ismodule(plugin):
            bind(self.store)
        return registered

    def unregister_plugin(self, name: str) -> Any:
        """Remove a plugin by name; returns it (or ``None``). Built-in policy and callbacks stay."""
        with self._lock:
            plugin = self._pm.get_plugin(name)
            if plugin is None:
                return None
            if plugin in self._builtin[:2]:
                raise PluginContractError(f"the built-in plugin {name!r} cannot be removed")
            self._pm.unregister(plugin)
            self._invalidate()
        return plugin

    def get_plugin(self, name: str) -> Any:
        return self._pm.get_plugin(name)

    def list_plugins(self) -> list[str]:
        return [name for name, _ in self._pm.list_name_plugin()]

    def _collect_infos(self) -> list[PluginInfo]:
        infos: list[PluginInfo] = []
        by_name = {r.name: r for r in self.loaded_plugins}
        for info in self._pm.hook.agent_security_plugin_info():
            rec = by_name.get(info.name)
            if rec is not None:
                info = dataclasses.replace(info, distribution=rec.distribution, version=rec.version)
            infos.append(info)
        return infos

    def _invalidate(self) -> None:
        with self._lock:
            self._impl_cache = {}
            self._plan = None

    def _get_plan(self) -> _Plan:
        """Every check hook's implementations, in calling order (rebuilt after a plugin change)."""
        plan = self._plan
        if plan is not None:
            return plan
        with self._lock:
            if self._plan is None:
                self._plan = _Plan(*(self._impls(hook) for hook in _Plan._fields))
            return self._plan

    def _impls(self, hook: str) -> tuple[_Impl, ...]:
        cached = self._impl_cache.get(hook)
        if cached is not None:
            return cached
        with self._lock:
            caller = getattr(self._pm.hook, hook)
            found = []
            for impl in caller.get_hookimpls():
                plugin = impl.plugin
                order = (0 if impl.tryfirst else 2 if impl.trylast else 1,
                         getattr(plugin, "priority", 100), self._registration.get(id(plugin), -1))
                argnames = tuple(impl.argnames)
                found.append((order, _Impl(
                    impl.plugin_name, plugin, impl.function, _HOOK_ARGS.get(argnames, argnames),
                    bool(getattr(plugin, "fail_open", False)),
                    bool(getattr(plugin, "may_relax", False)) and id(plugin) in self._explicit,
                )))
            found.sort(key=lambda pair: pair[0])
            result = tuple(impl for _, impl in found)
            self._impl_cache[hook] = result
            return result

    # -- audit -----------------------------------------------------------------------------------
    def _dispatch_audit(self, event: AuditEvent) -> None:
        failure: _PluginFailure | None = None
        for impl in self._get_plan().agent_security_audit_event:
            try:
                impl.function(event) if impl.argnames is _EVENT_ARG else impl.function()
            except _PROCESS_FATAL:
                raise
            except BaseException as exc:
                self._report(exc, f"plugin:{impl.plugin_name}:audit_event")
                if not impl.fail_open and failure is None:
                    failure = _PluginFailure(impl, "audit_event", exc)
        if failure is not None:
            raise failure

    def _record(self, event: AuditEvent) -> tuple[AuditEvent, Decision | None]:
        """Append to the trail. Returns the chained event and, when a fail-closed sink refused it, the
        DENY to apply (PLUGIN_ERROR naming the sink, then AUDIT_FAILURE)."""
        try:
            return self._trail.record(event), None
        except Exception as exc:
            return event, self._audit_denial(exc)

    def _audit(self, kind: Literal["decision", "resolution", "execution"], request: ActionRequest,
               decision: Decision, rhash: str, ctx: CheckContext, phase: str,
               identity_changes: Mapping[str, Any] | None) -> tuple[AuditEvent, Decision | None]:
        """Build this check's audit event and append it to the trail: :meth:`_record`'s result. The usual
        event (every value of its field's type, see :meth:`_event`) is built once, by the trail, from its
        values; on a refused write the event is returned unchained, as :meth:`_record` does."""
        built = self._event(kind, request, decision, rhash, ctx, phase, identity_changes)
        if not isinstance(built, dict):  # (not isinstance(built, AuditEvent): a model class's check is slow)
            return self._record(built)  # built by the validating constructor: the ordinary path
        try:
            return self._trail.record_values(built, _EVENT_FIELDS_CHAINED), None
        except Exception as exc:
            return trusted(AuditEvent, {**built, "sequence": 0, "prev_hash": None, "hash": None},
                           _EVENT_FIELDS_SET), self._audit_denial(exc)

    def _audit_denial(self, exc: Exception) -> Decision:
        """The DENY for a decision the trail could not record: PLUGIN_ERROR naming the fail-closed sink
        that refused it, then AUDIT_FAILURE; any other error is reported and gives AUDIT_FAILURE."""
        if isinstance(exc, _PluginFailure):
            return Decision.deny(
                "PLUGIN_ERROR", f'Plugin "{exc.impl.plugin_name}" failed during audit_event: '
                f"{type(exc.error).__name__}", plugin_source=exc.impl.plugin_name,
            ).with_reason("AUDIT_FAILURE", "The decision could not be written to the audit trail")
        self._report(exc, "audit")
        return Decision.deny("AUDIT_FAILURE", "The decision could not be written to the audit trail")

    def _record_lifecycle(self, what: str, **extra: Any) -> None:
        data: dict[str, Any] = {"lifecycle": what, **extra}
        if what in ("startup", "policy_loaded"):
            bundle = getattr(self._engine, "bundle", None)
            if bundle is not None:
                data["policy"] = {"version": str(getattr(bundle, "version", "")),
                                  "rules": len(getattr(bundle, "rules", ()) or ())}
        if what == "startup":
            data["plugins"] = [r.as_dict() for r in self.loaded_plugins]
            data["registered"] = self.list_plugins()
            data["mode"] = self._mode
        self._record(AuditEvent(kind="lifecycle", mode=self._mode, data=data))

    def get_audit_log(self) -> list[AuditEvent]:
        """The events held by the in-memory ring (bounded by ``[core.audit] memory_size``)."""
        return self._memory_sink.events()

    def _report(self, error: BaseException, where: str) -> None:
        if self._on_error is None:
            return
        try:
            result = self._on_error(error, where)
            if inspect.isawaitable(result):
                _run_coroutine_sync(result, 10.0)
        except _FATAL:
            raise
        except BaseException:  # noqa: S110 - the error reporter must never break a check
            pass

    # -- request construction --------------------------------------------------------------------
    def build_request(
        self,
        *,
        tool_name: str,
        tool_args: Mapping[str, Any] | None = None,
        agent_id: str,
        agent_name: str | None = None,
        environment: str | None = None,
        owner: str | None = None,
        action_type: str | None = None,
        user_input: str | None = None,
        data_labels: Iterable[str] | None = None,
        risk_hints: Iterable[str] | None = None,
        session_id: str | None = None,
        trace_id: str | None = None,
        parent_agent_id: str | None = None,
        agent_type: str | None = None,
        trust_level: str | None = None,
        roles: Iterable[str] | None = None,
        capabilities: Iterable[str] | None = None,
        max_delegation_depth: int | None = None,
        attestation: Mapping[str, Any] | AgentAttestation | None = None,
        tool_identity: Mapping[str, Any] | ToolIdentity | None = None,
        delegation_chain: Iterable[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> ActionRequest:
        """Validate the caller's fields and build the request (arguments deep-copied and bounded).

        Raises ``TypeError``/``ValueError`` for a programming mistake (missing tool name or agent id,
        arguments that are not a mapping) and :class:`InvalidArguments` (``InputTooLarge`` for arguments past
        the bounds) for arguments that cannot be represented faithfully.
        """
        if not isinstance(tool_name, str) or not tool_name.strip():
            raise TypeError("tool_name must be a non-empty string")
        if len(tool_name) > MAX_TOOL_NAME:
            raise InputTooLarge(f"tool_name is longer than {MAX_TOOL_NAME} characters")
        if not isinstance(agent_id, str) or not agent_id.strip():
            raise TypeError("agent_id must be a non-empty string")
        if tool_args is None:
            tool_args = {}
        if type(tool_args) is not dict and not isinstance(tool_args, Mapping):  # a dict skips the ABC's check
            raise TypeError("tool_args must be a mapping (dict) of argument names to values")
        args = freeze_json(tool_args)
        timestamp = self._clock()
        if (type(tool_name) is str and type(agent_id) is str and type(agent_name) in _PLAIN
                and type(environment) in _PLAIN and type(owner) in _PLAIN and type(action_type) in _PLAIN
                and type(user_input) in _PLAIN and type(session_id) in _PLAIN and type(trace_id) in _PLAIN
                and type(parent_agent_id) in _PLAIN and type(agent_type) in _PLAIN
                and data_labels is None and risk_hints is None and trust_level is None and roles is None
                and capabilities is None and max_delegation_depth is None and attestation is None
                and tool_identity is None and delegation_chain is None and not context
                and type(self.default_owner) is str and type(self.default_environment) is str
                and isinstance(timestamp, datetime)):
            # Every field is a plain str or None (the validator would accept each unchanged) and nothing
            # else needs validating: build the models the validator would build, without running it —
            # after the same bounds as the general path (_bound_fields).
            if max(len(agent_id), len(agent_name or ""), len(environment or ""), len(owner or ""),
                   len(action_type or ""), len(session_id or ""), len(trace_id or ""), len(parent_agent_id or ""),
                   len(agent_type or "")) > MAX_ID_CHARS:
                plain_fields: tuple[tuple[str, str | None], ...] = (
                    ("agent_id", agent_id), ("name", agent_name), ("environment", environment), ("owner", owner),
                    ("type", action_type), ("session_id", session_id), ("trace_id", trace_id),
                    ("parent_agent_id", parent_agent_id), ("agent_type", agent_type))
                for field_name, text in plain_fields:
                    if text is not None and len(text) > MAX_ID_CHARS:
                        raise InputTooLarge(f"{field_name} is longer than {MAX_ID_CHARS} characters")
            if user_input is not None and len(user_input) > MAX_STRING:
                raise InputTooLarge(f"user_input is longer than {MAX_STRING} characters")
            return self._plain_request(tool_name, args, agent_id, agent_name, environment, owner, action_type,
                                       user_input, session_id, trace_id, parent_agent_id, agent_type, timestamp)
        agent: dict[str, Any] = {"agent_id": agent_id, "name": agent_name or agent_id,
                                 "owner": owner or self.default_owner,
                                 "environment": environment or self.default_environment}
        for key, value in (("agent_type", agent_type), ("trust_level", trust_level), ("roles", roles),
                           ("capabilities", capabilities), ("max_delegation_depth", max_delegation_depth),
                           ("attestation", attestation)):
            if value is not None:
                agent[key] = value
        for key, listed in (("roles", roles), ("capabilities", capabilities)):
            if listed is not None and not isinstance(listed, str):
                agent[key] = tuple(itertools.islice(listed, MAX_LIST_ITEMS + 1))
        action: dict[str, Any] = {"type": action_type or "tool_call", "tool_name": tool_name, "tool_args": args}
        if tool_identity is not None:
            action["tool_identity"] = tool_identity
        ctx: dict[str, Any] = {}
        for key, value in (("user_input", user_input), ("data_labels", data_labels), ("risk_hints", risk_hints),
                           ("session_id", session_id), ("trace_id", trace_id),
                           ("parent_agent_id", parent_agent_id), ("delegation_chain", delegation_chain)):
            if value is not None:
                ctx[key] = value if isinstance(value, str) or key in ("session_id", "trace_id") else tuple(
                    itertools.islice(value, MAX_LIST_ITEMS + 1))
        if context:
            ctx["extra"] = freeze_json(dict(context))
        _bound_fields(agent)
        _bound_fields(ctx)
        _bound_fields({"type": action["type"]})
        for key in ("attestation",):
            if isinstance(agent.get(key), Mapping):
                agent[key] = freeze_json(agent[key])
        if isinstance(action.get("tool_identity"), Mapping):
            action["tool_identity"] = freeze_json(action["tool_identity"])
        # One validation call for the whole request (pydantic-core checks every field's type).
        return ActionRequest.model_validate({"request_id": new_id(), "timestamp": timestamp,
                                             "agent": agent, "action": action, "context": ctx})

    def _plain_request(self, tool_name: str, args: dict[str, Any], agent_id: str, agent_name: str | None,
                       environment: str | None, owner: str | None, action_type: str | None,
                       user_input: str | None, session_id: str | None, trace_id: str | None,
                       parent_agent_id: str | None, agent_type: str | None, timestamp: datetime) -> ActionRequest:
        """:meth:`build_request` when every given field is a plain ``str`` (see there): the same models,
        fields and ``model_fields_set`` as ``ActionRequest.model_validate`` of the same dict.

        The agent and the request context are frozen models made of these strings alone, so each is
        built once per distinct set of values and shared by the requests that carry them (at most
        :data:`_MAX_SHARED_PARTS` of each are kept; a context with a long ``user_input`` is not kept)."""
        name = agent_name or agent_id
        owner = owner or self.default_owner
        environment = environment or self.default_environment
        agent_key = (agent_id, name, owner, environment, agent_type)
        agent = self._agents.get(agent_key)
        if agent is None:
            agent_set = {"agent_id", "name", "owner", "environment"}
            if agent_type is not None:
                agent_set.add("agent_type")
            agent = trusted(AgentInfo, {
                "agent_id": agent_id, "name": name, "owner": owner, "environment": environment,
                "agent_type": agent_type, "trust_level": None, "roles": (), "capabilities": (),
                "max_delegation_depth": None, "attestation": None, "verified": False}, agent_set)
            remember(self._agents, agent_key, agent, _MAX_SHARED_PARTS)
        action = trusted(Action, {"type": action_type or "tool_call", "tool_name": tool_name, "tool_args": args,
                                  "tool_identity": None}, _ACTION_FIELDS)
        context_key = (user_input, session_id, trace_id, parent_agent_id)
        context = self._contexts.get(context_key)
        if context is None:
            ctx_set = set()
            for key, value in (("user_input", user_input), ("session_id", session_id), ("trace_id", trace_id),
                               ("parent_agent_id", parent_agent_id)):
                if value is not None:
                    ctx_set.add(key)
            context = trusted(RequestContext, {
                "user_input": user_input, "data_labels": (), "risk_hints": (), "trace_id": trace_id,
                "session_id": session_id, "parent_agent_id": parent_agent_id, "delegation_chain": (),
                "extra": {}}, ctx_set)
            if user_input is None or len(user_input) <= _MAX_SHARED_INPUT:
                remember(self._contexts, context_key, context, _MAX_SHARED_PARTS)
        return trusted(ActionRequest, {"request_id": new_id(), "timestamp": timestamp, "agent": agent,
                                       "action": action, "context": context}, _REQUEST_FIELDS)

    # -- entry points ----------------------------------------------------------------------------
    def check_tool_call(self, **params: Any) -> CheckResult:
        """Decide one tool call. Never raises for a denial; see the class docstring for parameters."""
        out: list[CheckResult] = []
        return _drive_sync(self._check(params, None, out), out)

    async def acheck_tool_call(self, **params: Any) -> CheckResult:
        """Asynchronous :meth:`check_tool_call`: ``async def`` hooks and callbacks are awaited on the
        running loop and plain blocking callbacks run in a worker thread."""
        out: list[CheckResult] = []
        return await _drive_async(self._check(params, None, out), out)

    def check_request(self, request: ActionRequest) -> CheckResult:
        """Decide an already-built :class:`ActionRequest`."""
        out: list[CheckResult] = []
        return _drive_sync(self._check(None, request, out), out)

    async def acheck_request(self, request: ActionRequest) -> CheckResult:
        out: list[CheckResult] = []
        return await _drive_async(self._check(None, request, out), out)

    # -- the pipeline ------------------------------------------------------------------------------
    def _new_ctx(self, rhash: str, now: datetime | None = None) -> CheckContext:
        """The context of one check; ``now`` defaults to a fresh reading of the clock."""
        # Positional (security, store, now, monotonic, mode, request_hash): cheaper than keywords.
        return CheckContext(self, self.store, self._clock() if now is None else now, self._monotonic(), self._mode,
                            rhash)

    def _call_impl(self, impl: _Impl, kwargs: dict[str, Any]) -> Any:
        return impl.function(**{k: kwargs[k] for k in impl.argnames})

    def _await_hook(self, impl: _Impl, phase: str, result: Any,
                    timeout: float | None) -> Generator[Any, Any, Any]:
        """Wait for an implementation's awaitable or blocking result; failures raise :class:`_PluginFailure`."""
        if timeout is None:
            timeout = self.hook_timeout_s
        try:
            if inspect.isawaitable(result):
                result = yield _Wait(result, timeout)
            elif isinstance(result, _Blocking):
                result = yield _Blocking(result.fn, result.args, timeout, self._workers)
        except _Timeout as exc:
            raise _PluginFailure(impl, phase, TimeoutError(f"{phase} timed out after {timeout}s")) from exc
        except _CLOSING:
            raise
        except BaseException as exc:
            raise _PluginFailure(impl, phase, exc) from exc
        return result

    def _plugin_error(self, failure: _PluginFailure, ctx: CheckContext) -> Decision | None:
        """Report a plugin failure; fail-open plugins are skipped, others yield DENY PLUGIN_ERROR."""
        self._report(failure.error, f"plugin:{failure.impl.plugin_name}:{failure.phase}")
        ctx.annotate("errors", {failure.impl.plugin_name: {"phase": failure.phase,
                                                           "error": type(failure.error).__name__}})
        if failure.impl.fail_open:
            return None
        return Decision.deny(
            "PLUGIN_ERROR",
            f'Plugin "{failure.impl.plugin_name}" failed during {failure.phase}: '
            f"{type(failure.error).__name__}",
            plugin_source=failure.impl.plugin_name,
        )

    def _check(self, params: dict[str, Any] | None, request: ActionRequest | None,
               out: list[CheckResult]) -> Generator[Any, Any, None]:
        """The pipeline of one check, for a driver of :mod:`._drive`: its result is appended to ``out``."""
        if self._closed:
            raise ConfigurationError("this AgentSecurity has been shut down")
        self._ensure_initialized()
        decision: Decision | None = None
        now: datetime | None = None  # the check's time: the request's own when it is built here
        if request is None:
            assert params is not None
            try:
                request = self.build_request(**params)
                now = request.timestamp
            except (InvalidArguments, ValidationError) as exc:
                # Hostile or malformed content (not a programming mistake): decide DENY and audit it.
                safe = {k: params.get(k) for k in ("tool_name", "agent_id", "environment")
                        if isinstance(params.get(k), str)}
                request = ActionRequest(
                    agent=AgentInfo(agent_id=str(safe.get("agent_id") or "unknown")[:MAX_ID_CHARS],
                                    environment=str(safe.get("environment")
                                                    or self.default_environment)[:MAX_ID_CHARS]),
                    action=Action(tool_name=str(safe.get("tool_name") or "unknown")[:MAX_TOOL_NAME]),
                    timestamp=self._clock())
                msg = str(exc) if isinstance(exc, InvalidArguments) else (
                    f"invalid request field: {'.'.join(map(str, exc.errors()[0]['loc']))}")
                decision = Decision.deny("INVALID_REQUEST", msg)
        try:
            rhash = request_hash(request)
        except (TypeError, ValueError, RecursionError):  # a pre-built request (check_request) is not bounded
            rhash = ""
            decision = decision or Decision.deny("INVALID_REQUEST", "the request's arguments cannot be hashed")
        ctx = self._new_ctx(rhash, now)
        plan = self._get_plan()
        identity_changes: dict[str, Any] = {}
        gates: list[tuple[Decision, str]] = []
        phase = "decided"
        replaced = False

        # Phase 0 and 1: identify, before_check ----------------------------------------------------
        for hook, phase_name, impls in (("agent_security_identify", "identify", plan.agent_security_identify),
                                        ("agent_security_before_check", "before_check",
                                         plan.agent_security_before_check)):
            if decision is not None:
                break
            if not impls:
                continue
            ctx.phase = phase_name
            for impl in impls:
                try:
                    res = _call_hook(impl, phase_name, _REQUEST_CTX, (request, ctx))
                    if res is not None and not isinstance(res, BaseModel):
                        res = yield from self._await_hook(impl, phase_name, res, self.hook_timeout_s)
                    if res is None:
                        continue
                    if not isinstance(res, PluginResult):
                        raise PluginContractError(f"{hook} must return PluginResult or None")
                except _PluginFailure as failure:
                    decision = self._plugin_error(failure, ctx)
                    if decision is not None:
                        phase = phase_name
                        break
                    continue
                except PluginContractError as exc:
                    decision = self._plugin_error(_PluginFailure(impl, phase_name, exc), ctx)
                    if decision is not None:
                        phase = phase_name
                        break
                    continue
                if res.annotations:
                    ctx.annotate(impl.plugin_name, res.annotations)
                if res.request is not None:
                    replacement: ActionRequest | None = None
                    try:  # a replacement built with model_copy(update=...) skipped validation: redo it
                        replacement = ActionRequest.model_validate(res.request.model_dump(warnings=False))
                        request_hash(replacement)  # NaN, an int too wide...: it must be hashable to be decided
                    except ValidationError as exc:
                        problem: str | None = f"returned an invalid request ({exc.errors()[0]['loc']})"
                    except (TypeError, ValueError, RecursionError) as exc:
                        problem = f"returned a request whose arguments cannot be hashed ({type(exc).__name__})"
                    else:
                        problem = self._check_replacement(request, replacement, identity=phase_name == "identify")
                    if problem:
                        decision = Decision.deny("PLUGIN_CONTRACT_VIOLATION",
                                                 f'Plugin "{impl.plugin_name}" {problem}',
                                                 plugin_source=impl.plugin_name)
                        phase = phase_name
                        break
                    assert replacement is not None
                    if phase_name == "identify":
                        identity_changes.update(self._identity_diff(request, replacement, impl.plugin_name))
                    request = replacement
                    replaced = True
                if res.decision is not None:
                    d = self._attributed(res.decision, impl, ctx)
                    if d.outcome is _ALLOW:
                        ctx.annotate(impl.plugin_name, {"ignored_allow": True})
                        continue
                    if d.outcome in APPROVAL_LIKE:
                        # A gate (DLP, supply chain): approving it must not skip the policy, so the
                        # policy still runs and the stricter of the two is what gets resolved.
                        gates.append((d, phase_name))
                        continue
                    decision = d
                    phase = phase_name
                    break
        if identity_changes:
            ctx.annotate("identity", {"changes": identity_changes})
        if replaced:
            rhash = request_hash(request)
            ctx.request_hash = rhash

        # Phase 2: evaluate ---------------------------------------------------------------------
        if decision is None:
            ctx.phase = "evaluate"
            votes: list[Decision] = []
            for impl in plan.agent_security_evaluate:
                try:
                    vote = _call_hook(impl, "evaluate", _REQUEST_CTX, (request, ctx))
                    if vote is not None and type(vote) is not Decision:  # (a model class's isinstance is slow)
                        if not isinstance(vote, BaseModel):
                            vote = yield from self._await_hook(impl, "evaluate", vote, self.hook_timeout_s)
                        if vote is not None and not isinstance(vote, Decision):
                            raise _PluginFailure(impl, "evaluate", PluginContractError(
                                "agent_security_evaluate must return Decision or None"))
                except _PluginFailure as failure:
                    err = self._plugin_error(failure, ctx)
                    if err is not None:
                        votes = [err]
                        break
                    continue
                if vote is not None:
                    votes.append(self._attributed(vote, impl, ctx, True))  # keep_unset
            if not votes:
                decision = Decision.deny("NO_DECISION", "No evaluator produced a decision")
            elif len(votes) == 1 and not gates:  # the usual case: the policy alone
                decision = votes[0]
            else:  # first most restrictive; on a tie the evaluator's decision (its approver) wins
                decision = max([*votes, *(g for g, _ in gates)], key=lambda d: restrictiveness(d.outcome))
                phase = next((where for g, where in gates if g is decision), phase)
                if gates and decision.outcome.approval_like:  # whoever resolves sees every gate's reasons
                    extra = tuple(r for g, _ in gates if g is not decision for r in g.reasons
                                  if r not in decision.reasons)
                    if extra:
                        decision = decision.model_copy(update={"reasons": (*decision.reasons, *extra)})

            # Phase 3: after_decision -----------------------------------------------------------
            reasons = decision.reasons  # (each read of a model field is slow: read once)
            if reasons and reasons[0].code != "PLUGIN_ERROR":
                ctx.phase = "after_decision"
                for impl in plan.agent_security_after_decision:
                    try:
                        new = _call_hook(impl, "after_decision", _REQUEST_DECISION_CTX, (request, decision, ctx))
                        if new is not None and type(new) is not Decision:
                            if not isinstance(new, BaseModel):
                                new = yield from self._await_hook(impl, "after_decision", new, self.hook_timeout_s)
                            if new is not None and not isinstance(new, Decision):
                                raise _PluginFailure(impl, "after_decision", PluginContractError(
                                    "agent_security_after_decision must return Decision or None"))
                    except _PluginFailure as failure:
                        err = self._plugin_error(failure, ctx)
                        if err is not None:
                            decision = err
                            break
                        continue
                    if new is None:
                        continue
                    if not impl.may_relax and self._relaxes(decision, new):
                        ctx.annotate(impl.plugin_name, {"refused_relaxation": new.outcome.value})
                        continue
                    decision = self._attributed(new, impl, ctx, False, decision.plugin_source)  # also=

        assert decision is not None
        # Primary audit event -----------------------------------------------------------------------
        primary, audit_denial = self._audit("decision", request, decision, rhash, ctx, phase, identity_changes)
        events = [primary]
        final = decision
        if audit_denial is not None:
            final = self._merge_denial(decision, audit_denial)
        elif decision.outcome in APPROVAL_LIKE and self._mode == "enforce":
            # Phase 4: resolve ----------------------------------------------------------------------
            final = yield from self._resolve(request, decision, rhash, ctx)
            if final.outcome is _ALLOW and not self._unchanged(request, rhash):
                # Something holding the request (a callback, a UI) changed it in place during the wait.
                final = final.with_reason("APPROVAL_MISMATCH", "The request changed while it was being approved",
                                          outcome=_DENY)
            ev, audit_denial = self._audit("resolution", request, final, rhash, ctx, "resolve", None)
            events.append(ev)
            if audit_denial is not None:
                final = self._merge_denial(final, audit_denial)
        # Alerts raised so far (DLP ``alert`` actions...): recorded before notify, so that an alert the
        # trail refuses withdraws an allow like any refused audit write, and notify sees the final answer.
        if ctx.alerts:
            before = final
            final = self._record_alerts(request, rhash, ctx, 0, events, final)
            if final is not before:
                ev, _ = self._audit("resolution", request, final, rhash, ctx, "alert", None)
                events.append(ev)
        alerts_recorded = len(ctx.alerts)
        final_outcome = final.outcome
        if final_outcome in APPROVAL_LIKE:  # observe mode: not resolved, reported as would-block
            blocked = True
        else:
            blocked = final_outcome is not _ALLOW

        # Notify ------------------------------------------------------------------------------------
        ctx.phase = "notify"
        for impl in plan.agent_security_notify:
            try:
                res = _call_hook(impl, "notify", _REQUEST_DECISION_CTX, (request, final, ctx))
                if res is not None and not isinstance(res, BaseModel):
                    yield from self._await_hook(impl, "notify", res, self.hook_timeout_s)
            except _PluginFailure as failure:
                err = self._plugin_error(failure, ctx)
                if err is not None and final.outcome is not _DENY:
                    # Fail closed: a notification that could not be delivered withdraws an allow.
                    final = self._merge_denial(final, err)
                    blocked = True
                    ev, _ = self._audit("resolution", request, final, rhash, ctx, "notify", None)
                    events.append(ev)
        if len(ctx.alerts) > alerts_recorded:  # raised by notify hooks
            before = final
            final = self._record_alerts(request, rhash, ctx, alerts_recorded, events, final)
            if final is not before:
                blocked = True
                ev, _ = self._audit("resolution", request, final, rhash, ctx, "notify", None)
                events.append(ev)

        allowed = (not blocked) or self._mode == "observe"
        would_block = blocked and self._mode == "observe"
        tool_args = request.action.tool_args
        if (type(decision) is Decision and type(final) is Decision and type(request) is ActionRequest
                and type(tool_args) is dict
                and all(type(k) is str for k in tool_args)
                and all(type(ev) is AuditEvent for ev in events)):
            # What CheckResult(...) would check (model instances pass through unchanged, tool_args is
            # copied into a dict with str keys), checked here; skip the validator.
            out.append(trusted(CheckResult, {
                "allowed": allowed, "decision": decision, "final_decision": final, "event": primary,
                "events": tuple(events), "request": request, "request_hash": rhash, "tool_args": dict(tool_args),
                "would_block": would_block}, _RESULT_FIELDS))
            return
        out.append(CheckResult(
            allowed=allowed, decision=decision, final_decision=final, event=primary, events=tuple(events),
            request=request, request_hash=rhash, tool_args=tool_args, would_block=would_block,
        ))

    def _record_alerts(self, request: ActionRequest, rhash: str, ctx: CheckContext, start: int,
                       events: list[AuditEvent], final: Decision) -> Decision:
        """Record ``ctx.alerts[start:]`` as ``alert`` events (appended to ``events``); ``final``, or the
        DENY it becomes when the trail refuses one (fail closed, as for the decision's own event). Alert
        data is bounded like tool arguments; data that cannot be recorded is replaced by its error."""
        for alert in ctx.alerts[start:]:
            try:
                data = freeze_json(alert["data"])
            except InvalidArguments as exc:
                data = {"unrecordable": type(exc).__name__}
            ev, denial = self._record(AuditEvent(
                kind="alert", request_id=request.request_id, agent_id=request.agent_id,
                tool_name=request.tool_name, environment=request.environment, mode=self._mode,
                request_hash=rhash, data=data,
                reasons=(Reason(code=str(alert["code"])[:128], message=str(alert["message"])[:1000]),)))
            events.append(ev)
            if denial is not None and final.outcome is not _DENY:
                final = self._merge_denial(final, denial)
        return final

    @staticmethod
    def _relaxes(current: Decision, new: Decision) -> bool:
        """Whether ``new`` would weaken ``current``: a less restrictive outcome, or the same gate resolved
        by someone else or under other constraints (which of two approvers is stricter cannot be known)."""
        rank, new_rank = restrictiveness(current.outcome), restrictiveness(new.outcome)
        if new_rank != rank:
            return new_rank < rank
        return current.outcome.approval_like and (new.approver_role != current.approver_role
                                                  or new.constraints != current.constraints)

    @staticmethod
    def _attributed(d: Decision, impl: _Impl, ctx: CheckContext, keep_unset: bool = False,
                    also: str | None = None) -> Decision:  # positional: a keyword call costs more
        """``d`` attributed to the plugin that returned it: a plugin cannot name another plugin as the
        source of its decision (``also``: a source it may keep, e.g. the decision it adjusted)."""
        claimed = d.plugin_source
        if claimed == impl.plugin_name or (claimed is None and keep_unset) or (claimed and claimed == also):
            return d
        if claimed:
            ctx.annotate(impl.plugin_name, {"claimed_source": claimed[:128]})
        return d.model_copy(update={"plugin_source": impl.plugin_name})

    @staticmethod
    def _unchanged(request: ActionRequest, rhash: str) -> bool:
        try:
            return request_hash(request) == rhash
        except (TypeError, ValueError):  # mutated into something that cannot even be hashed
            return False

    @staticmethod
    def _merge_denial(decision: Decision, denial: Decision) -> Decision:
        return decision.model_copy(update={"outcome": _DENY,
                                           "reasons": (*decision.reasons, *denial.reasons),
                                           "plugin_source": denial.plugin_source or decision.plugin_source})

    def _check_replacement(self, old: ActionRequest, new: ActionRequest, *, identity: bool) -> str | None:
        if new.request_id != old.request_id:
            return "changed the request_id"
        if not identity and new.agent != old.agent:
            return "changed the agent identity outside the identify phase"
        if new.action.tool_name != old.action.tool_name:
            return "changed the tool name"
        if new.action.type != old.action.type:
            return "changed the action type"
        if new.action.tool_identity != old.action.tool_identity:
            return "changed the tool identity"
        for field in ("session_id", "parent_agent_id", "delegation_chain"):
            if getattr(new.context, field) != getattr(old.context, field):
                return f"changed the {field}"
        if not set(old.context.data_labels) <= set(new.context.data_labels):
            return "removed data labels (labels may only be added)"
        return None

    @staticmethod
    def _identity_diff(old: ActionRequest, new: ActionRequest, plugin: str) -> dict[str, Any]:
        before = old.agent.model_dump(mode="json", exclude={"attestation"})
        after = new.agent.model_dump(mode="json", exclude={"attestation"})
        return {k: {"claimed": before[k], "registered": after[k], "by": plugin}
                for k in before if before[k] != after[k]}

    def _resolve(self, request: ActionRequest, decision: Decision, rhash: str,
                 ctx: CheckContext) -> Generator[Any, Any, Decision]:
        ctx.phase = "resolve"
        (_, ok_code, ok_msg, no_code, no_msg, err_code, timeout_msg) = GATES[decision.outcome]
        deadline = self._monotonic() + self.approval_timeout_s
        answer: Any = None
        answered_by: str | None = None
        for impl in self._impls("agent_security_resolve"):
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                return _with_reason(decision, err_code, timeout_msg, outcome=_DENY)
            try:
                answer = _call_hook(impl, "resolve", _REQUEST_DECISION_CTX, (request, decision, ctx))
                if answer is not None and not isinstance(answer, BaseModel):
                    answer = yield from self._await_hook(impl, "resolve", answer, remaining)
            except _PluginFailure as failure:
                self._report(failure.error, f"plugin:{failure.impl.plugin_name}:resolve")
                if isinstance(failure.error, TimeoutError):
                    return _with_reason(decision, err_code, timeout_msg, outcome=_DENY)
                if isinstance(failure.error, Saturated):
                    return _with_reason(decision, "APPROVAL_UNAVAILABLE", f"{failure.error}: no answer can be "
                                        f"waited for now ({decision.outcome.value})", outcome=_DENY)
                if isinstance(failure.error, _Cancelled):
                    return _with_reason(decision, "CHECK_CANCELLED", "The check was cancelled while waiting for "
                                        f"{decision.outcome.value}", outcome=_DENY)
                return _with_reason(
                    decision, "PLUGIN_ERROR", f'Plugin "{failure.impl.plugin_name}" failed during resolve: '
                    f"{type(failure.error).__name__}", outcome=_DENY)
            if answer is not None:
                answered_by = impl.plugin_name
                break
        if answered_by is None:
            return _with_reason(decision, "NO_RESOLVER", f"No handler is configured for {decision.outcome.value}",
                                        outcome=_DENY)
        res = self._as_resolution(decision.outcome, answer)
        if res is None:
            return _with_reason(decision, err_code, f"Unusable answer from {answered_by}", outcome=_DENY)
        if res.request_hash is not None and res.request_hash != rhash:
            return _with_reason(decision, "APPROVAL_MISMATCH", "The approval was granted for a different request",
                                        outcome=_DENY)
        if res.request_id is not None and res.request_id != request.request_id:
            return _with_reason(decision, "APPROVAL_MISMATCH", "The approval was granted for a different request",
                                outcome=_DENY)
        if decision.outcome is Outcome.REQUIRE_TICKET and res.approved and not (res.ticket_id or "").strip():
            res = res.model_copy(update={"approved": False})
        if res.approved and res is answer:
            # The same resolution approving a second call (a cached token, a replay): single use only. A
            # plain answer (True, a ticket id) became a Resolution just now, with a nonce nobody else has
            # seen: there is nothing to replay, and claiming it would only fill the store.
            try:
                first_use = self.store.claim(f"approval:nonce:{res.nonce}", ttl_s=_NONCE_TTL_S)
            except Exception as exc:  # full of live claims, or unreachable: the single use is not assured
                self._report(exc, "store:claim")
                return _with_reason(decision, "APPROVAL_UNVERIFIABLE",
                                    f"The approval's single use could not be recorded ({type(exc).__name__})",
                                    outcome=_DENY)
            if not first_use:
                return _with_reason(decision, "APPROVAL_REPLAYED", "This approval has already been used",
                                    outcome=_DENY)
        if res.approved:
            msg = ok_msg
            if decision.outcome is Outcome.REQUIRE_TICKET:
                msg = f"Ticket {str(res.ticket_id)[:128]} validated"
            ctx.annotate("resolution", {"by": res.resolver or answered_by, "ticket_id": res.ticket_id})
            return _with_reason(decision, ok_code, res.message or msg, outcome=_ALLOW)
        ctx.annotate("resolution", {"by": res.resolver or answered_by})
        return _with_reason(decision, no_code, res.message or no_msg, outcome=_DENY)

    @staticmethod
    def _as_resolution(outcome: Outcome, answer: Any) -> Resolution | None:
        if isinstance(answer, Resolution):
            return answer
        if outcome is Outcome.REQUIRE_TICKET:
            if isinstance(answer, str):
                return Resolution(approved=bool(answer.strip()), ticket_id=answer.strip() or None)
            if answer is False:
                return Resolution(approved=False)
            return None  # True or anything else is not a ticket
        if isinstance(answer, bool):
            return Resolution(approved=answer)
        return None  # only an explicit bool or Resolution approves; truthy junk does not

    def _event(self, kind: Literal["decision", "resolution", "execution"], request: ActionRequest,
               decision: Decision, rhash: str, ctx: CheckContext, phase: str,
               identity_changes: Mapping[str, Any] | None) -> dict[str, Any] | AuditEvent:
        """The audit event of this check: its values (for :meth:`AuditTrail.record_values`) when every one
        has its field's type, else the event built by the validating constructor."""
        fields, verdict = field_values(request), field_values(decision)  # each field read once
        agent, action, context = fields["agent"], fields["action"], fields["context"]
        outcome, mode = verdict["outcome"], self._mode
        data: dict[str, Any] = {"phase": phase, "action_type": action.type}
        session_id, data_labels = context.session_id, context.data_labels
        if session_id:
            data["session_id"] = session_id
        if data_labels:
            data["data_labels"] = list(data_labels)
        approver_role = verdict["approver_role"]
        if approver_role:
            data["approver_role"] = approver_role
        if ctx.annotations:
            try:
                data["plugins"] = freeze_json(ctx.annotations)
            except InvalidArguments as exc:  # a plugin's notes must not cost the decision its audit event
                data["plugins"] = {"unrecordable": type(exc).__name__}
        if kind == "decision" and mode == "observe" and outcome is not _ALLOW:
            data["would_block"] = True
        allowed = outcome is _ALLOW or mode == "observe"
        # A decision is stamped with the instant it was evaluated at: the clock reading the policy's time
        # conditions, the rate windows and the session TTLs saw (ctx.now). What is recorded later (a
        # resolution after a wait, an execution) reads the clock again.
        timestamp = ctx.now if kind == "decision" else self._clock()
        reasons = verdict["reasons"]
        request_id, agent_id, environment = fields["request_id"], agent.agent_id, agent.environment
        tool_name, plugin_source = action.tool_name, verdict["plugin_source"]
        if (type(request_id) is str and type(agent_id) is str and type(tool_name) is str
                and type(environment) is str and type(outcome) is Outcome
                and type(reasons) is tuple and all(type(r) is Reason for r in reasons)
                and (plugin_source is None or type(plugin_source) is str)
                and isinstance(timestamp, datetime)):
            # Every value has its field's type (checked just above or made here): skip re-validation.
            return {
                "schema_version": SCHEMA_VERSION, "event_id": new_id(), "sequence": 0, "timestamp": timestamp,
                "kind": kind, "request_id": request_id, "agent_id": agent_id, "tool_name": tool_name,
                "environment": environment, "outcome": outcome, "allowed": allowed, "reasons": reasons,
                "plugin_source": plugin_source, "mode": mode, "request_hash": rhash, "data": data,
                "prev_hash": None, "hash": None,
            }
        return AuditEvent(
            kind=kind, request_id=request.request_id, agent_id=request.agent_id, tool_name=request.tool_name,
            environment=request.environment, outcome=outcome, allowed=allowed,
            reasons=reasons, plugin_source=plugin_source, mode=mode,
            request_hash=rhash, timestamp=timestamp, data=data, event_id=new_id(),
        )

    # -- after execution -----------------------------------------------------------------------------
    def _after_execution(self, check: CheckResult, result: Any, error: BaseException | None,
                         out: list[Any]) -> Generator[Any, Any, None]:
        """The ``after_execution`` phase, for a driver of :mod:`._drive`; appended to ``out``: the result to
        return or, when the tool raised (``error``), the exception to raise (``error`` itself or a plugin's
        replacement, e.g. a sanitised one). Raises :class:`SecurityError` when a plugin withholds it."""
        ctx = self._new_ctx(check.request_hash)
        ctx.phase = "after_execution"
        blocked: Decision | None = None
        redacted_by: list[str] = []
        raised = error
        for impl in self._impls("agent_security_after_execution"):
            try:
                res = _call_hook(impl, "after_execution", _AFTER_EXECUTION_ARGS,
                                      (check.request, check.final_decision, result, error, ctx))
                if res is not None and not isinstance(res, BaseModel):
                    res = yield from self._await_hook(impl, "after_execution", res, self.hook_timeout_s)
                if res is not None and not isinstance(res, ExecutionResult):
                    raise _PluginFailure(impl, "after_execution", PluginContractError(
                        "agent_security_after_execution must return ExecutionResult or None"))
                if (res is not None and res.replace and raised is not None
                        and not isinstance(res.result, BaseException)):
                    raise _PluginFailure(impl, "after_execution", PluginContractError(
                        "a replacement for the exception a tool raised must be an exception"))
            except _PluginFailure as failure:
                blocked = self._plugin_error(failure, ctx)
                if blocked is not None:
                    break
                continue
            if res is None:
                continue
            if res.block is not None:
                blocked = self._attributed(res.block, impl, ctx)
                if blocked.outcome is _ALLOW:
                    blocked = None
                    continue
                break
            if res.replace:
                if raised is not None:
                    raised = res.result
                else:
                    result = res.result
                redacted_by.append(impl.plugin_name)
        if redacted_by:
            ctx.annotate("execution", {"redacted_by": redacted_by})
        if error is not None:
            ctx.annotate("execution", {"error": type(error).__name__})
            if raised is not error:
                ctx.annotate("execution", {"raised": type(raised).__name__})
            passed = Decision.allow("EXECUTION_ERROR", "The tool raised; the exception passed output checks")
        else:
            passed = Decision.allow("EXECUTION_OK", "Tool result passed output checks")
        final = blocked or passed
        _, audit_denial = self._audit("execution", check.request, final, check.request_hash, ctx,
                                      "after_execution", None)
        if blocked is not None and self._mode == "enforce":
            raise SecurityError(f"Output of {check.request.tool_name} was withheld", blocked, check)
        if audit_denial is not None and self._mode == "enforce":
            raise SecurityError(f"Output of {check.request.tool_name} could not be audited", audit_denial, check)
        out.append(raised if raised is not None else result)

    # -- protect ---------------------------------------------------------------------------------
    @overload
    def protect(self, tool_name: str, fn: Callable[P, R], /, **options: Any) -> Callable[P, R]: ...

    @overload
    def protect(self, tool_name: str, fn: None = None, /,
                **options: Any) -> Callable[[Callable[P, R]], Callable[P, R]]: ...

    def protect(self, tool_name: str, fn: Callable[P, R] | None = None, /, **options: Any) -> Any:
        """Guard a function: as a wrapper ``security.protect("send_email", send)`` or a decorator
        ``@security.protect("send_email", agent_id="mailer")``. Works for sync and async functions.

        Options: every :meth:`check_tool_call` field except ``tool_name``/``tool_args`` (``agent_id``
        defaults to ``"protected-function"``), and ``extract_tool_args(*args, **kwargs) -> dict``. Without
        it the arguments are bound to the function's parameter names. A blocked call raises
        :class:`SecurityError`; the tool's result then passes the ``after_execution`` phase, and so does an
        exception it raises (which a plugin may withhold or replace with a sanitised one).
        """
        if fn is None:
            return lambda f: self.protect(tool_name, f, **options)
        extract = options.pop("extract_tool_args", None)
        options.setdefault("agent_id", "protected-function")
        signature = inspect.signature(fn)

        def args_of(*args: Any, **kwargs: Any) -> dict[str, Any]:
            if extract is not None:
                return dict(extract(*args, **kwargs))
            bound = signature.bind(*args, **kwargs)
            return dict(bound.arguments)

        def blocked(check: CheckResult) -> SecurityError:
            return SecurityError(f"Security policy blocked execution of {tool_name}", check.final_decision,
                                 check)

        def snapshot(original: dict[str, Any]) -> tuple[Any, frozenset[str]]:
            """The arguments as the check sees them, taken before the check (and any approval wait), and
            the names of those whose copy can stand for the original (plain JSON values)."""
            try:
                frozen = freeze_json(original)
            except InvalidArguments:
                return None, frozenset()  # the check denies these arguments itself
            if not isinstance(frozen, dict):
                return frozen, frozenset()
            return frozen, frozenset(name for name, value in original.items()
                                     if type(name) is str and name in frozen and same_json(value, frozen[name]))

        def call_args(check: CheckResult, args: tuple[Any, ...], kwargs: dict[str, Any],
                      frozen: Any, exact: frozenset[str]) -> tuple[tuple[Any, ...], dict[str, Any]]:
            """The arguments ``fn`` runs with: the values the decision was made on (``check.tool_args``,
            a private copy nobody else holds, so changing the caller's objects after the check changes
            nothing), except where that copy cannot stand for the original (a tuple, bytes, a ``Path``,
            any non-JSON object: the original is passed, as it was checked in its JSON form)."""
            checked = check.tool_args
            if extract is not None:
                if frozen != checked:
                    raise rewrite_unsupported(check, "with extract_tool_args they cannot be mapped back")
                return args, kwargs
            bound = signature.bind(*args, **kwargs)
            parameters = signature.parameters
            unknown = [name for name in checked if name not in parameters]
            if unknown:
                raise rewrite_unsupported(check, f"it added arguments {tool_name} does not take")
            for name in list(bound.arguments):
                if name not in checked:  # removed by a plugin (DLP): the parameter's default, if it has one
                    param = parameters[name]
                    if param.default is param.empty and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                        raise rewrite_unsupported(check, f"it removed the required argument {name!r}")
                    del bound.arguments[name]
                    continue
                rewritten = not isinstance(frozen, dict) or frozen.get(name, _MISSING) != checked[name]
                if rewritten or name in exact:
                    bound.arguments[name] = checked[name]
            for name in checked:
                if name not in bound.arguments:  # added by a plugin for a parameter the caller left out
                    bound.arguments[name] = checked[name]
            return bound.args, bound.kwargs

        def rewrite_unsupported(check: CheckResult, why: str) -> SecurityError:
            return SecurityError(
                f"A plugin rewrote the arguments of {tool_name}, but {why}, so the call is blocked",
                Decision.deny("ARGS_REWRITE_UNSUPPORTED", "Rewritten arguments cannot be applied"), check)

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                original = args_of(*args, **kwargs)
                frozen, exact = snapshot(original)
                check = await self.acheck_tool_call(tool_name=tool_name, tool_args=original, **options)
                if not check.allowed:
                    raise blocked(check)
                self._verify_binding(check, args_of(*args, **kwargs), frozen)
                cargs, ckwargs = call_args(check, args, kwargs, frozen, exact)
                try:
                    result = await fn(*cargs, **ckwargs)
                except Exception as exc:
                    failure: Exception = exc
                else:
                    out: list[Any] = []
                    return await _drive_async(self._after_execution(check, result, None, out), out)
                try:  # outside the except block: what is raised now is not chained to the tool's exception
                    out = []
                    raise await _drive_async(self._after_execution(check, None, failure, out), out)
                finally:
                    del failure

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            original = args_of(*args, **kwargs)
            frozen, exact = snapshot(original)
            check = self.check_tool_call(tool_name=tool_name, tool_args=original, **options)
            if not check.allowed:
                raise blocked(check)
            self._verify_binding(check, args_of(*args, **kwargs), frozen)
            cargs, ckwargs = call_args(check, args, kwargs, frozen, exact)
            try:
                result = fn(*cargs, **ckwargs)
            except Exception as exc:
                failure: Exception = exc
            else:
                out: list[Any] = []
                return _drive_sync(self._after_execution(check, result, None, out), out)
            try:  # outside the except block: what is raised now is not chained to the tool's exception
                out = []
                raise _drive_sync(self._after_execution(check, None, failure, out), out)
            finally:
                del failure

        return wrapper

    def _verify_binding(self, check: CheckResult, current_args: dict[str, Any], approved: Any) -> None:
        """After an approval, the arguments about to run must still be the ones the check was asked about
        (``approved``: frozen before the wait). A plugin's rewrite is not a change: it is applied from
        ``check.tool_args`` afterwards."""
        if not check.decision.outcome.approval_like or self._mode == "observe":
            return
        try:
            current = freeze_json(current_args)
        except InvalidArguments:
            current = None
        if approved is None or current != approved:
            raise SecurityError("The arguments changed after approval",
                                Decision.deny("APPROVAL_MISMATCH", "Arguments changed after approval"), check)

    # -- lifecycle -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop accepting checks, flush the audit trail and release every plugin's resources.

        Every plugin's shutdown runs even if one fails; the failures are then raised together.
        """
        if self._closed:
            return
        self._record_lifecycle("shutdown")
        self._closed = True
        self._workers.shutdown()
        errors: list[BaseException] = []
        try:
            self._trail.close()  # the final signed checkpoint goes out while the sinks are still open
        except Exception as exc:
            errors.append(exc)
        for impl in self._impls("agent_security_shutdown"):
            try:
                self._call_impl(impl, {"security": self})
            except Exception as exc:
                self._report(exc, f"plugin:{impl.plugin_name}:shutdown")
                errors.append(exc)
        for obj in [p for _, p in self._pm.list_name_plugin()]:
            close = getattr(obj, "close", None)
            if callable(close) and not inspect.ismodule(obj):
                try:
                    close()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise PluginError(f"{len(errors)} plugin(s) failed to shut down: "
                              + "; ".join(f"{type(e).__name__}: {e}" for e in errors))

    async def ashutdown(self) -> None:
        await asyncio.to_thread(self.shutdown)

    def __enter__(self) -> AgentSecurity:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    async def __aenter__(self) -> AgentSecurity:
        await self.ainit()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.ashutdown()
