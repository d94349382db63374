"""What the framework adapters (LangChain, CrewAI) share: how a verdict reads to a model, what a kill is,
and the fields every call carries. Imports no framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent_security.core import AgentSecurity, CheckResult, Decision, SecurityError

__all__ = [
    "ADAPTER_ERROR",
    "KILL_CODES",
    "MAX_REASON_CHARS",
    "AgentHalted",
    "acheck_or_deny",
    "allowed",
    "check_or_deny",
    "error_decision",
    "final",
    "is_kill",
    "reason_text",
]

KILL_CODES: frozenset[str] = frozenset({"AGENT_KILL_SWITCH", "GLOBAL_KILL_SWITCH"})
"""Reason codes that stop the agent (an exception) rather than deny one call (a message to the model)."""
ADAPTER_ERROR = "ADAPTER_ERROR"
"""Reason code of a denial caused by a failure inside the adapter or the pipeline call itself."""
MAX_REASON_CHARS = 2000


class AgentHalted(SecurityError):
    """Raised by an adapter when the agent was killed (kill switch): the run must stop, not go on.

    ``decision`` is the final decision (its codes include ``AGENT_KILL_SWITCH`` or ``GLOBAL_KILL_SWITCH``),
    ``result`` the :class:`~agent_security.core.CheckResult`."""


def reason_text(decision: Decision, *, prefix: str = "Blocked by agent-security") -> str:
    """The text a model reads for a blocked call: codes and messages, bounded."""
    codes = ", ".join(decision.codes) or decision.outcome.value
    messages = "; ".join(r.message for r in decision.reasons if r.message)
    text = f"{prefix} ({codes})" + (f": {messages}" if messages else "")
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def is_kill(decision: Decision, kill_codes: Iterable[str] = KILL_CODES) -> bool:
    codes = set(kill_codes)
    return any(code in codes for code in decision.codes)


def error_decision(exc: BaseException, where: str) -> Decision:
    """The DENY an adapter failure becomes (never a silent allow)."""
    return Decision.deny(ADAPTER_ERROR, f"agent-security could not check the call ({where}: {type(exc).__name__})")


def check_or_deny(security: AgentSecurity, fields: Mapping[str, Any]) -> CheckResult | Decision:
    """``security.check_tool_call(**fields)``, or the DENY it becomes when the call itself raises."""
    try:
        return security.check_tool_call(**fields)
    except Exception as exc:
        return error_decision(exc, "check_tool_call")


async def acheck_or_deny(security: AgentSecurity, fields: Mapping[str, Any]) -> CheckResult | Decision:
    try:
        return await security.acheck_tool_call(**fields)
    except Exception as exc:
        return error_decision(exc, "acheck_tool_call")


def final(outcome: CheckResult | Decision) -> Decision:
    """The decision that counts: the check's final decision, or the adapter's own DENY."""
    return outcome if isinstance(outcome, Decision) else outcome.final_decision


def allowed(outcome: CheckResult | Decision) -> bool:
    return not isinstance(outcome, Decision) and outcome.allowed
