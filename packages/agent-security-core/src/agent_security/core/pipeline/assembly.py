"""Putting an ``AgentSecurity`` together: checking its options and callbacks, opening its durable audit
sinks and its trail, validating the plugins' configuration sections. Used once, by the facade's
constructor."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from typing import Any

from agent_security.core.audit.keys import AuditSigner
from agent_security.core.audit.sinks import JsonlAuditSink, SqliteAuditSink
from agent_security.core.audit.trail import AuditTrail
from agent_security.core.clock import Clock
from agent_security.core.config import ConfigSection, CoreConfig, Settings
from agent_security.core.errors import ConfigurationError
from agent_security.core.files import MAX_KEY_FILE_BYTES, read_bounded
from agent_security.core.host import Mode
from agent_security.core.models import AuditEvent
from agent_security.core.pipeline.runtime import Callbacks, Runtime
from agent_security.core.plugins import PluginInfo
from agent_security.core.store import MemoryStore, Store, open_store

__all__ = [
    "CALLBACK_ARGS",
    "check_callbacks",
    "check_options",
    "close_all",
    "default_store",
    "durable_sinks",
    "open_trail",
    "trusted_keys",
    "validate_sections",
]

CALLBACK_ARGS = {
    "on_approval_required": ("request", "decision"),
    "on_step_up_required": ("request", "decision"),
    "on_ticket_required": ("request", "decision"),
    "on_human_required": ("request", "decision"),
    "on_allow": ("request", "decision"),
    "on_deny": ("request", "decision"),
    "on_audit_event": ("event",),
    "on_error": ("error", "where"),
}
"""Each callback option and the arguments it is called with."""


def check_options(
    core: CoreConfig,
    mode: Mode | None,
    approval_timeout_s: float | None,
    hook_timeout_s: float,
    max_pending_callbacks: int,
) -> tuple[Mode, float]:
    """The mode and approval timeout in force; refuses values outside their documented ranges."""
    chosen: Mode = mode or core.mode
    if chosen not in ("enforce", "observe"):
        raise ConfigurationError(f"mode must be 'enforce' or 'observe', not {chosen!r}")
    timeout = core.approval_timeout_s if approval_timeout_s is None else approval_timeout_s
    if not (isinstance(timeout, int | float) and 0 < timeout <= 86_400):
        raise ConfigurationError("approval_timeout_s must be a number of seconds in (0, 86400]")
    if not (isinstance(hook_timeout_s, int | float) and 0 < hook_timeout_s <= 3600):
        raise ConfigurationError("hook_timeout_s must be a number of seconds in (0, 3600]")
    count = max_pending_callbacks
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 4096:
        raise ConfigurationError("max_pending_callbacks must be an integer in [1, 4096]")
    return chosen, float(timeout)


def _require_signature(option: str, callback: Any) -> None:
    if callback is None:
        return
    names = CALLBACK_ARGS[option]
    if not callable(callback):
        raise ConfigurationError(f"{option} must be a function taking ({', '.join(names)})")
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # a builtin without introspectable parameters: called as documented
        return
    try:
        signature.bind(*names)
    except TypeError as exc:
        raise ConfigurationError(f"{option} must accept ({', '.join(names)}); {callback!r} cannot: {exc}") from None


def check_callbacks(callbacks: Callbacks, on_audit_event: Any) -> None:
    """Refuse a callback that cannot take its documented arguments (at construction, not on first use)."""
    for option in CALLBACK_ARGS:
        _require_signature(option, on_audit_event if option == "on_audit_event" else getattr(callbacks, option))


def default_store(core: CoreConfig, clock: Clock, url: str | None = None) -> Store:
    """The store ``url`` names (``AgentSecurity(store="redis://...")``), else the one ``[core] store``
    names, else an in-memory store; on the instance's clock and namespace."""
    url = url if url is not None else core.store
    if url:
        return open_store(url, clock=clock, namespace=core.store_namespace)
    return MemoryStore(clock=clock, namespace=core.store_namespace)


def trusted_keys(core: CoreConfig, given: Sequence[Any] | None) -> list[Any]:
    """The policy verification keys: those given, then those the configuration names."""
    keys = list(given or [])
    for key_path in core.trusted_policy_keys:
        keys.append(read_bounded(key_path, MAX_KEY_FILE_BYTES, what="trusted policy key"))
    if given is not None and not keys:
        raise ConfigurationError(
            "trusted_policy_keys is an empty list, so no policy signature could be "
            "verified; give at least one key, or None for unsigned policies"
        )
    return keys


def durable_sinks(core: CoreConfig) -> list[Any]:
    """The audit sinks the configuration asks for (``[core.audit] sqlite_path`` / ``jsonl_path`` /
    ``redis_stream``)."""
    sinks: list[Any] = []
    if core.audit.sqlite_path:
        sinks.append(
            SqliteAuditSink(core.audit.sqlite_path, name="audit_sqlite", lock_timeout_s=core.audit.lock_timeout_s)
        )
    if core.audit.jsonl_path:
        sinks.append(
            JsonlAuditSink(core.audit.jsonl_path, name="audit_jsonl", lock_timeout_s=core.audit.lock_timeout_s)
        )
    if core.audit.redis_stream:
        try:
            from agent_security.core.audit.redis_stream_sink import RedisStreamAuditSink
        except ImportError:
            close_all(sinks)
            raise ConfigurationError(
                "[core.audit] redis_stream needs redis-py (pip install 'agent-security-core[redis]')"
            ) from None
        try:
            sinks.append(
                RedisStreamAuditSink.from_url(
                    core.audit.redis_stream, namespace=core.store_namespace, maxlen=core.audit.redis_stream_maxlen
                )
            )
        except ValueError as exc:
            close_all(sinks)
            raise ConfigurationError(f"[core.audit] redis_stream: {exc}") from None
    return sinks


def close_all(sinks: Iterable[Any]) -> None:
    for sink in sinks:
        close = getattr(sink, "close", None)
        if callable(close):
            close()


def open_trail(rt: Runtime, core: CoreConfig, sinks: Sequence[Any]) -> AuditTrail:
    """The trail: its head held by the shared durable sinks (any number of processes may append), or the
    chain a sink already holds continued; sinks whose chains disagree are refused. Every event goes to
    every ``agent_security_audit_event`` subscriber."""
    signer = (
        AuditSigner.from_pem(read_bounded(core.audit.signing_key_path, MAX_KEY_FILE_BYTES, what="audit signing key"))
        if core.audit.signing_key_path
        else None
    )

    def dispatch(event: AuditEvent) -> None:
        rt.relay.audit_event(event, rt.report)

    return AuditTrail.open(dispatch, sinks, signer=signer, sign_every=core.audit.sign_every, clock=rt.clock.now)


def validate_sections(infos: Iterable[PluginInfo], settings: Settings) -> None:
    """Validate every plugin's configuration section with its model; two plugins may not claim one."""
    declared: dict[str, ConfigSection] = {}
    for info in infos:
        if not (info.config_section and info.config_model):
            continue
        if info.config_section in declared or info.config_section == "core":
            owner = declared[info.config_section].plugin if info.config_section in declared else "core"
            raise ConfigurationError(
                f"plugins {owner!r} and {info.name!r} both declare the config section {info.config_section!r}"
            )
        declared[info.config_section] = ConfigSection(info.config_section, info.config_model, info.name)
    settings.validate_sections(declared)
