"""An approval answers one request: it cannot be replayed, arguments changed during the wait are refused,
and arguments a plugin rewrote run as rewritten.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    Resolution,
    SecurityError,
    hookimpl,
)
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))

GATE = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F7 (medium, open): a hash-bound Resolution is not single-use. request_hash deliberately excludes the
# request id, so an approval token cached by a resolver approves every identical later call.
# ------------------------------------------------------------------------------------------------


def test_hash_bound_approval_cannot_be_replayed() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))
    granted: dict[str, Resolution] = {}

    def resolver(request: Any, decision: Any) -> Resolution:
        # An approval service that answers by hash (e.g. a human approved this exact call once).
        from agent_security.core.resolution import request_hash

        h = request_hash(request)
        return granted.setdefault(h, Resolution(approved=True, request_hash=h, resolver="alice"))

    security = _make(gate, on_approval_required=resolver)
    first = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob", "amount": 100})
    second = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob", "amount": 100})
    assert first.allowed is True
    assert second.allowed is False
    assert second.final_decision.codes[-1] == "APPROVAL_REPLAYED"


def test_approval_bound_to_another_request_id_is_refused() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))
    security = _make(gate, on_approval_required=lambda r, d: Resolution(approved=True, request_id="someone-else"))
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert not result.allowed and result.final_decision.codes[-1] == "APPROVAL_MISMATCH"
    fresh = _make(gate, on_approval_required=lambda r, d: Resolution(approved=True, request_id=r.request_id))
    assert fresh.check_tool_call(tool_name="pay", agent_id="a").allowed


# ------------------------------------------------------------------------------------------------
# F12 (low): protect() compared the arguments after an approval with the plugin-rewritten ones, so any
# approval-gated call whose arguments a plugin redacted or enriched was refused (APPROVAL_MISMATCH) even
# though nothing changed. A real change during the wait must still be refused.
# ------------------------------------------------------------------------------------------------


class _RedactBody:
    name = "redact_body"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
        args = {**request.action.tool_args, "body": "[REDACTED]"}
        return PluginResult(
            request=request.model_copy(update={"action": request.action.model_copy(update={"tool_args": args})})
        )


def test_approved_call_with_rewritten_arguments_runs_with_the_rewrite() -> None:
    security = _make(GATE, plugins=[_RedactBody()], on_approval_required=lambda r, d: True)

    def send(to: str, body: str) -> tuple[str, str]:
        return to, body

    assert security.protect("send", send, agent_id="a")("bob", "secret 1234") == ("bob", "[REDACTED]")


async def test_approved_call_with_rewritten_arguments_runs_with_the_rewrite_async() -> None:
    security = _make(GATE, plugins=[_RedactBody()], on_approval_required=lambda r, d: True)

    async def send(to: str, body: str) -> tuple[str, str]:
        return to, body

    assert await security.protect("send", send, agent_id="a")("bob", "secret 1234") == ("bob", "[REDACTED]")


def test_arguments_mutated_during_the_approval_are_refused() -> None:
    payload = {"to": "bob"}

    def approve(request: Any, decision: Any) -> bool:
        payload["to"] = "mallory"  # someone changes the call while the human looks at it
        return True

    security = _make(GATE, on_approval_required=approve)
    ran: list[Any] = []
    with pytest.raises(SecurityError) as info:
        security.protect("send", lambda p: ran.append(p), agent_id="a")(payload)
    assert ran == []
    assert "APPROVAL_MISMATCH" in info.value.decision.codes


# ------------------------------------------------------------------------------------------------
# F17 (medium): the request handed to an approval callback carries the live tool_args dict. Changing it
# in place during the wait (after approving exactly what was shown) made protect() run the changed
# arguments, while the audit trail kept the hash of the approved ones.
# ------------------------------------------------------------------------------------------------


def _swap_after_approving(request: Any, decision: Any) -> Resolution:
    from agent_security.core.resolution import request_hash

    approved = request_hash(request)
    request.action.tool_args["to"] = "mallory"
    return Resolution(approved=True, request_hash=approved)


def test_arguments_swapped_in_place_during_approval_are_refused() -> None:
    security = _make(GATE, on_approval_required=_swap_after_approving)
    ran: list[Any] = []
    with pytest.raises(SecurityError) as info:
        security.protect("pay", lambda to, amount: ran.append((to, amount)), agent_id="a")("bob", 100)
    assert ran == []
    assert "APPROVAL_MISMATCH" in info.value.decision.codes


async def test_arguments_swapped_in_place_during_approval_are_refused_async() -> None:
    security = _make(GATE, on_approval_required=_swap_after_approving)
    result = await security.acheck_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob"})
    assert result.allowed is False
    assert result.final_decision.codes[-1] == "APPROVAL_MISMATCH"
    assert result.events[-1].outcome is Outcome.DENY  # the resolution event records the refusal
