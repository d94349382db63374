"""The hook contract between the core and every agent-security plugin.

A distribution becomes a plugin by declaring an entry point in the ``agent_security`` group that points at
a module (or object) of hook implementations marked with :data:`hookimpl`::

    [project.entry-points.agent_security]
    egress = "agent_security.egress.plugin"

Hooks come in two families.

**Distribution hooks** are implemented by the entry-point module itself. They describe the plugin
(:func:`agent_security_plugin_info`), declare its configuration section, add CLI commands, and, once per
:class:`~agent_security.core.AgentSecurity` instance, build the plugin's stateful objects and register
them (:func:`agent_security_configure`). Keeping state out of the module means two ``AgentSecurity``
instances in one process never share counters by accident.

**Check hooks** run for every tool call, in this order (the pipeline's phases)::

    identify -> before_check -> evaluate -> after_decision -> [audit: decision]
             -> resolve (approval-like outcomes only) -> [audit: resolution] -> notify
             -> (the tool runs) -> after_execution (protect, check_result) -> [audit: execution]

and every audit event, as it is written, goes to ``agent_security_audit_event``.

**Calling order of the implementations of one hook** (the same for every hook, stated here once):
``tryfirst`` implementations, then ordinary ones, then ``trylast`` ones; within each group by the plugin
object's ``priority`` attribute (lower first; default 100; the policy evaluator is 0, the application's
callbacks 1,000,000, so they resolve last); then in registration order, first registered first. The
pipeline calls check-hook implementations one at a time (``agent_security.core.pipeline.hooks``), so that
an exception is attributed to the plugin that raised it. Unless the plugin object sets
``fail_open = True``, an exception is a DENY with reason code ``PLUGIN_ERROR``. Hook wrappers
(``wrapper=True`` / ``hookwrapper=True``) are refused on check hooks: a wrapper could rewrite a DENY into an
ALLOW behind every other plugin's back.

Plugins never receive the ``AgentSecurity`` itself: distribution hooks get the
:class:`~agent_security.core.host.Host` (``host``), check hooks reach it as ``ctx.host``.

Every hook implementation may accept fewer arguments than the spec (pluggy's opt-in arguments). Check
hooks may be ``async def``: the asynchronous entry point awaits them, the synchronous one runs them to
completion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from agent_security.core.config import Settings
    from agent_security.core.context import CheckContext
    from agent_security.core.host import Host
    from agent_security.core.models import (
        ActionRequest,
        AuditEvent,
        Decision,
        ExecutionResult,
        PluginResult,
    )
    from agent_security.core.plugins import PluginInfo
    from agent_security.core.resolution import Resolution

PROJECT_NAME = "agent_security"
"""The pluggy project name, the entry-point group and the marker key. Never spell it differently."""

HOOKSPEC_VERSION = 2
"""Bumped on any incompatible change to the hook contract; plugins may refuse an older core.
2: ``configure`` and ``shutdown`` receive the ``host``; ``identify`` may replace the tool identity and the
delegation chain; ``after_execution`` also runs for ``check_result``."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

CHECK_HOOKS = (
    "agent_security_identify",
    "agent_security_before_check",
    "agent_security_evaluate",
    "agent_security_after_decision",
    "agent_security_resolve",
    "agent_security_notify",
    "agent_security_after_execution",
    "agent_security_audit_event",
)
"""Hooks called per check, one implementation at a time, with fail-closed error handling."""


# --------------------------------------------------------------------------------------------------
# Distribution hooks: implemented by the entry-point module.
# --------------------------------------------------------------------------------------------------


@hookspec(historic=True)
def agent_security_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications contributed by a distribution (pytest's ``pytest_addhooks`` pattern).

    Called once for every plugin as it is registered; call ``pluginmanager.add_hookspecs(module)``.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_plugin_info() -> PluginInfo:
    """Describe the plugin: its name, its config section and model, and what it does by default.

    Every entry-point module implements this hook. ``agent-security plugins`` and ``config show`` read
    it, and the configuration loader validates the plugin's section with ``PluginInfo.config_model``.

    :returns: one :class:`~agent_security.core.plugins.PluginInfo`.

    .. versionadded:: 0.1
    """
    raise NotImplementedError


@hookspec
def agent_security_configure(host: Host, settings: Settings) -> None:
    """Build this distribution's stateful plugin objects for one ``AgentSecurity`` and register them.

    Called once per :class:`~agent_security.core.AgentSecurity`, after the built-in plugins are in place.
    Read your validated section with ``settings.section("<name>")`` (``None`` when the user wrote none)
    and call ``host.register_plugin(obj)``. An exception here makes the ``AgentSecurity``
    constructor fail (fail closed: a protection that cannot start is not silently skipped). An object the
    application registers under the same name later replaces yours (audited).

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 receives the :class:`~agent_security.core.host.Host` (was the ``AgentSecurity``).
    """


@hookspec
def agent_security_cli(cli: click.Group) -> None:
    """Add subcommands to the ``agent-security`` command line (e.g. ``cli.add_command(mcp_group)``).

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------------------------------
# Check hooks: one call per tool call, in pipeline order.
# --------------------------------------------------------------------------------------------------


@hookspec
def agent_security_identify(request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
    """Phase 0: resolve who is acting, before anything keys on the agent id.

    An identity plugin returns ``PluginResult(agent=..., tool_identity=..., delegation_chain=...)``,
    naming only what it replaces with registered values (``agent.verified = True``), or
    ``PluginResult(request=...)`` with those replaced in a copy of the request; nothing else may change.
    The first form holds nothing of one request, so the same result may answer every check of a caller.
    The pipeline records every
    changed field in the decision's audit event (``data.plugins.identity.changes``: claimed, registered,
    by whom), so a mismatch between claim and registry is visible. May also return a decision (e.g. DENY
    ``AGENT_UNREGISTERED``), which ends the check.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 may replace the tool identity and the delegation chain, also by naming only
       the replaced parts.
    """


@hookspec
def agent_security_before_check(request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
    """Phase 1: guards that may decide before policy (kill switch, rate limits, DLP, supply chain).

    Return ``None`` to continue, ``PluginResult(decision=...)`` to end the check with that decision
    (ALLOW from a plugin does **not** skip policy evaluation: it is ignored with an audit note; an
    approval-like outcome does not skip it either: the remaining plugins and the policy still run and
    the stricter of the plugin's gate and the policy's decision is what gets resolved), or
    ``PluginResult(request=...)`` to continue with an enriched request (labels, redacted arguments). A
    replacement may not change ``request_id``, the agent identity, the tool name or identity, the action
    type, the session, the delegation fields, nor remove data labels. Called for every plugin in order
    until one decides.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_evaluate(request: ActionRequest, ctx: CheckContext) -> Decision | None:
    """Phase 2: produce a decision. The built-in policy engine implements this hook.

    Every non-``None`` answer is combined; the most restrictive outcome wins (DENY over REQUIRE_HUMAN
    over REQUIRE_TICKET over STEP_UP over REQUIRE_APPROVAL over ALLOW). If no implementation answers,
    the decision is DENY ``NO_DECISION``.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_after_decision(request: ActionRequest, decision: Decision, ctx: CheckContext) -> Decision | None:
    """Phase 3: adjust the decision. Return a replacement or ``None``.

    A replacement that is *more* permissive than the current decision is refused (and audited) unless
    the plugin object sets ``may_relax = True`` and was registered explicitly by the application.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def agent_security_resolve(request: ActionRequest, decision: Decision, ctx: CheckContext) -> Resolution | None:
    """Phase 4: resolve an approval-like outcome (REQUIRE_APPROVAL, STEP_UP, REQUIRE_TICKET, REQUIRE_HUMAN).

    Stops at the first non-``None`` result. The built-in callbacks plugin answers last, by calling the
    application's ``on_approval_required`` / ``on_step_up_required`` / ``on_ticket_required`` /
    ``on_human_required``. The pipeline bounds the wait with ``approval_timeout_s``; no answer in time,
    an exception, or an answer bound to a different request hash is a DENY.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_notify(request: ActionRequest, decision: Decision, ctx: CheckContext) -> None:
    """After the final decision: ``on_allow`` / ``on_deny`` are implemented on this hook.

    Fail closed like every check hook: an exception in a plugin that is not ``fail_open`` withdraws an
    ALLOW (DENY ``PLUGIN_ERROR``, audited as an extra ``resolution`` event); a DENY stays a DENY.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_after_execution(
    request: ActionRequest, decision: Decision, result: Any, error: BaseException | None, ctx: CheckContext
) -> ExecutionResult | None:
    """Phase 5: inspect what the tool returned, for calls made through ``protect`` and for results a host
    checks with ``check_result`` / ``acheck_result`` (``decision`` is then the call's final decision, or
    ALLOW ``DECIDED_ELSEWHERE`` when the host gave the call's fields instead of its check).

    Return ``ExecutionResult(replace=True, result=...)`` to redact the result, or
    ``ExecutionResult(block=Decision(...))`` to withhold it (the caller gets ``SecurityError``). An
    exception in a fail-closed plugin withholds the result.

    When the tool raised, ``result`` is ``None`` and ``error`` the exception, which ``protect`` raises
    afterwards. ``block`` raises ``SecurityError`` instead (not chained to the tool's exception);
    ``ExecutionResult(replace=True, result=exc)`` raises the exception ``exc`` instead (a sanitised one;
    anything but an exception breaks the contract and withholds the call, ``PLUGIN_ERROR``).

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_audit_event(event: AuditEvent) -> None:
    """Receive every audit event as it is written (sinks, anomaly detection, SIEM forwarding).

    Events arrive once each, in trail order, already sequenced and hash-chained, outside the trail's
    lock: a subscriber may itself write an event (``host.record_event``). A sink that raises while a
    decision is recorded turns an ALLOW into DENY ``AUDIT_FAILURE`` (an unaudited allow is not allowed),
    unless the sink sets ``fail_open = True``.

    .. versionadded:: 0.1
    """


@hookspec
def agent_security_shutdown(host: Host) -> None:
    """Release resources (close files and connections, stop timers). Errors are collected and reported.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 receives the :class:`~agent_security.core.host.Host` (was the ``AgentSecurity``).
    """


def hook_names() -> list[str]:
    """Names of every hook specified by core, in declaration order."""
    return [name for name in globals() if name.startswith("agent_security_")]
