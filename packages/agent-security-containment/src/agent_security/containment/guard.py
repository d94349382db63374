"""``ContainmentPlugin``: sandbox rules and change control on every tool call.

``before_check``:

1. The call's arguments against its tool's sandbox profile (:meth:`SandboxManager.check_constraints`):
   a violation is DENY ``SANDBOX_VIOLATION`` ``Sandbox violation: <violations joined "; ">``.
2. A tool in ``ticket_required_tools`` (names or ``fnmatch`` patterns): without a ticket argument
   (``ticket_id``, ``ticket``, ...) the gate is REQUIRE_TICKET ``TICKET_REQUIRED`` (the policy still
   runs; the stricter decision is resolved); with one, the ticket is validated now and a ticket that is
   not valid is a DENY with the validator's code (``TICKET_INVALID``, ``TICKET_NOT_FOUND``,
   ``TICKET_EXPIRED``, ``TICKET_NOT_STARTED``, ``TICKET_OUT_OF_SCOPE``, ``TICKET_ERROR``).

``resolve`` answers every REQUIRE_TICKET (the policy's too) when change control is configured: the
ticket named in the call's arguments (else the one ``ticket_provider`` gives) is validated against the
ticket system with the call's agent, tool and environment as its scope; the answer is bound to the
request's hash. No ticket, or one that is not valid: rejected (``TICKET_MISSING`` with the validator's
reason in the message). Without change control this plugin does not answer, and the application's
``on_ticket_required`` does.

``on_blocked(tool_name, reason)`` is called for every denial and ticket requirement this plugin makes;
an exception it raises is reported to the audit trail and changes nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from agent_security.containment.sandbox import SandboxManager
from agent_security.containment.tickets import ChangeControl, TicketCheck
from agent_security.core import (
    ActionRequest,
    CheckContext,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    Resolution,
    hookimpl,
)
from agent_security.core.normalize import normalize_name

__all__ = ["PLUGIN_NAME", "ContainmentPlugin", "containment_plugin"]

PLUGIN_NAME = "containment-guard"
DEFAULT_TICKET_ARGS = ("ticket_id", "ticket", "change_ticket", "change_id", "change_request")
TicketProvider = Callable[[ActionRequest, Decision], "str | Awaitable[str | None] | None"]
OnBlocked = Callable[[str, str], Any]


class ContainmentPlugin:
    """Before-check guard and REQUIRE_TICKET resolver. Thread-safe; one per ``AgentSecurity``."""

    fail_open = False

    def __init__(
        self,
        *,
        sandbox_manager: SandboxManager | None = None,
        change_control: ChangeControl | None = None,
        ticket_required_tools: Iterable[str] = (),
        ticket_arg_names: Iterable[str] = DEFAULT_TICKET_ARGS,
        ticket_provider: TicketProvider | None = None,
        on_blocked: OnBlocked | None = None,
        name: str = PLUGIN_NAME,
    ) -> None:
        self.name = name
        self.sandbox_manager = sandbox_manager
        self.change_control = change_control
        self.ticket_required_tools = tuple(normalize_name(t) for t in ticket_required_tools)
        if self.ticket_required_tools and change_control is None:
            raise ValueError("ticket_required_tools needs change_control: without a validator any ticket id would pass")
        self.ticket_arg_names = tuple(ticket_arg_names)
        self.ticket_provider = ticket_provider
        self.on_blocked = on_blocked

    # ---- before_check ---------------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> Any:
        tool = request.action.tool_name
        if self.sandbox_manager is not None:
            result = self.sandbox_manager.check_constraints(tool, request.action.tool_args)
            if not result.allowed:
                ctx.annotate(
                    "containment",
                    {"profile": result.profile, "violations": [v.code for v in result.details][:32]},
                )
            if not result.allowed:
                message = "Sandbox violation: " + "; ".join(result.violations)
                self._blocked(tool, message, ctx)
                denial = Decision.deny("SANDBOX_VIOLATION", message[:4096], plugin_source=self.name)
                return PluginResult(decision=denial)
        if self.change_control is None or not self._ticket_required(tool):
            return None
        ticket = self.ticket_in(request)
        if ticket is None:
            message = f'Tool "{tool[:128]}" requires a change ticket'
            self._blocked(tool, message, ctx)
            gate = Decision(
                outcome=Outcome.REQUIRE_TICKET,
                reasons=(Reason(code="TICKET_REQUIRED", message=message),),
                plugin_source=self.name,
            )
            return PluginResult(decision=gate)
        return self._validate_before(request, ticket, ctx)  # awaited by the pipeline, bounded by hook_timeout_s

    async def _validate_before(self, request: ActionRequest, ticket: str, ctx: CheckContext) -> PluginResult | None:
        check = await self._validate(request, ticket, ctx.now)
        ctx.annotate("containment", {"ticket": _ticket_facts(check)})
        if check.valid:
            return None
        self._blocked(request.action.tool_name, check.message, ctx)
        return PluginResult(decision=Decision.deny(check.code, check.message, plugin_source=self.name))

    # ---- resolve --------------------------------------------------------------------------------------
    @hookimpl
    def agent_security_resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
        if decision.outcome is not Outcome.REQUIRE_TICKET or self.change_control is None:
            return None
        return self._resolve(request, decision, ctx)  # awaited by the pipeline, bounded by approval_timeout_s

    async def _resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Resolution:
        ticket = self.ticket_in(request)
        if ticket is None and self.ticket_provider is not None:
            given = await asyncio.to_thread(self.ticket_provider, request, decision)
            if inspect.isawaitable(given):
                given = await given
            ticket = given.strip() if isinstance(given, str) and given.strip() else None
        bound = {"request_hash": ctx.request_hash or None, "request_id": request.request_id, "resolver": self.name}
        if ticket is None:
            names = ", ".join(self.ticket_arg_names[:4])
            return Resolution(approved=False, message=f"No change ticket given (arguments: {names})", **bound)
        check = await self._validate(request, ticket, ctx.now)
        ctx.annotate("containment", {"ticket": _ticket_facts(check)})
        if check.valid:
            return Resolution(approved=True, ticket_id=ticket, message=check.message, **bound)
        return Resolution(approved=False, ticket_id=ticket, message=f"{check.code}: {check.message}", **bound)

    # ---- helpers --------------------------------------------------------------------------------------
    def ticket_in(self, request: ActionRequest) -> str | None:
        """The ticket id the call names in its arguments, if any."""
        args = request.action.tool_args
        for key in self.ticket_arg_names:
            value = args.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    def _ticket_required(self, tool: str) -> bool:
        key = normalize_name(tool)
        return any(key == t or fnmatch.fnmatchcase(key, t) for t in self.ticket_required_tools)

    async def _validate(self, request: ActionRequest, ticket: str, now: datetime) -> TicketCheck:
        assert self.change_control is not None
        return await self.change_control.avalidate(
            ticket,
            agent_id=request.agent.agent_id,
            tool_name=request.action.tool_name,
            environment=request.agent.environment,
            now=now,
        )

    def _blocked(self, tool: str, reason: str, ctx: CheckContext) -> None:
        if self.on_blocked is None:
            return
        try:
            self.on_blocked(tool, reason)
        except Exception as exc:  # a notification: it cannot undo the denial
            ctx.annotate("containment", {"on_blocked_error": type(exc).__name__})


def _ticket_facts(check: TicketCheck) -> dict[str, Any]:
    facts: dict[str, Any] = {"valid": check.valid, "code": check.code, "cached": check.cached}
    if check.ticket is not None:
        facts["id"] = check.ticket.ticket_id[:128]
        facts["status"] = check.ticket.status[:64]
    return facts


def containment_plugin(
    *,
    sandbox_manager: SandboxManager | None = None,
    change_control: ChangeControl | None = None,
    ticket_required_tools: Iterable[str] = (),
    on_blocked: OnBlocked | None = None,
    ticket_provider: TicketProvider | None = None,
    ticket_arg_names: Iterable[str] = DEFAULT_TICKET_ARGS,
) -> ContainmentPlugin:
    """The original's ``containmentPlugin(config)``: pass it in ``AgentSecurity(plugins=[...])``; it
    replaces the one built from ``[containment]``."""
    return ContainmentPlugin(
        sandbox_manager=sandbox_manager,
        change_control=change_control,
        ticket_required_tools=ticket_required_tools,
        ticket_arg_names=ticket_arg_names,
        ticket_provider=ticket_provider,
        on_blocked=on_blocked,
    )
