"""A plugin that hangs, raises a BaseException or returns what cannot be recorded: each is a DENY that is
audited, never an escape from the pipeline.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Decision,
    Outcome,
    Reason,
    SecurityError,
    hookimpl,
)
from agent_security.core.arguments import MAX_STRING
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))

DENY = _engine(lambda r: Decision.deny("TOOL_FORBIDDEN", "the tool is forbidden"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


def _events_for(security: AgentSecurity, request_id: str) -> list[Any]:
    return [e for e in security.get_audit_log() if e.request_id == request_id]


# ------------------------------------------------------------------------------------------------
# F2 (medium): async check hooks outside resolve/notify had no timeout; one hung plugin hung every
# check forever ("a timeout on any wait is a DENY" did not hold).
# ------------------------------------------------------------------------------------------------


class _HangingBeforeCheck:
    name = "hanger"

    @hookimpl
    async def agent_security_before_check(self, request: Any, ctx: Any) -> None:
        await asyncio.Event().wait()


class _HangingAfterExecution:
    name = "hanger"

    @hookimpl
    async def agent_security_after_execution(
        self, request: Any, decision: Any, result: Any, error: Any, ctx: Any
    ) -> None:
        await asyncio.Event().wait()


def test_hanging_async_before_check_times_out_to_deny_sync() -> None:
    security = _make(plugins=[_HangingBeforeCheck()], hook_timeout_s=0.05)
    out: list[Any] = []
    worker = threading.Thread(
        target=lambda: out.append(security.check_tool_call(tool_name="t", agent_id="a")), daemon=True
    )
    worker.start()
    worker.join(10)  # a guard against the hang this test is about, not a timing assertion
    assert out, "the check never returned"
    assert out[0].allowed is False
    assert "PLUGIN_ERROR" in out[0].final_decision.codes


async def test_hanging_async_before_check_times_out_to_deny_async() -> None:
    security = _make(plugins=[_HangingBeforeCheck()], hook_timeout_s=0.05)
    result = await asyncio.wait_for(security.acheck_tool_call(tool_name="t", agent_id="a"), 10)
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


async def test_hanging_async_after_execution_times_out_and_withholds() -> None:
    security = _make(plugins=[_HangingAfterExecution()], hook_timeout_s=0.05)

    async def tool(x: int) -> int:
        return x

    guarded = security.protect("tool", tool, agent_id="a")
    with pytest.raises(SecurityError):
        await asyncio.wait_for(guarded(1), 10)


# ------------------------------------------------------------------------------------------------
# F3 (medium): a BaseException subclass (not KeyboardInterrupt/SystemExit) raised by a plugin escaped
# the pipeline: no DENY decision, no audit event for the call.
# ------------------------------------------------------------------------------------------------


class _Abort(BaseException):
    """Like gevent.Timeout or trio.Cancelled: a BaseException that is not a process exit."""


class _AbortingPlugin:
    name = "aborter"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> None:
        raise _Abort("boom")


class _AbortingSink:
    name = "bad_sink"
    fail_open = False

    def __init__(self) -> None:
        self.armed = False

    @hookimpl
    def agent_security_audit_event(self, event: Any) -> None:
        if self.armed:
            raise _Abort("disk gone")


def test_base_exception_in_plugin_is_deny_and_audited() -> None:
    security = _make(plugins=[_AbortingPlugin()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes
    assert _events_for(security, result.request.request_id)


async def test_base_exception_in_plugin_is_deny_async() -> None:
    security = _make(plugins=[_AbortingPlugin()])
    result = await security.acheck_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


def test_base_exception_in_approval_callback_is_deny() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))

    def callback(request: Any, decision: Any) -> bool:
        raise _Abort("approval service vanished")

    security = _make(gate, on_approval_required=callback)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert result.final_decision.outcome is Outcome.DENY


def test_base_exception_in_fail_closed_sink_is_audit_failure() -> None:
    sink = _AbortingSink()
    security = _make(audit_sinks=[sink])
    sink.armed = True
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "AUDIT_FAILURE" in result.final_decision.codes


def test_base_exception_from_on_error_does_not_break_the_check() -> None:
    def on_error(error: BaseException, where: str) -> None:
        raise _Abort("reporter down")

    security = _make(plugins=[_AbortingPlugin()], on_error=on_error)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


def test_keyboard_interrupt_still_propagates() -> None:
    class Interrupting:
        name = "ctrl_c"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            raise KeyboardInterrupt

    security = _make(plugins=[Interrupting()])
    with pytest.raises(KeyboardInterrupt):
        security.check_tool_call(tool_name="t", agent_id="a")


# ------------------------------------------------------------------------------------------------
# F9 (low): plugin annotations that freeze_json refuses (too large, colliding keys) made building the
# audit event raise, so the check raised with no decision and no audit event.
# ------------------------------------------------------------------------------------------------


def test_unrecordable_plugin_annotations_do_not_cost_the_audit_event() -> None:
    class Noisy:
        name = "noisy"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            ctx.annotate("noisy", {"blob": "x" * (MAX_STRING + 1)})

    security = _make(plugins=[Noisy()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is True
    assert result.event.data["plugins"] == {"unrecordable": "InputTooLarge"}


class Raising:
    name = "raising"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest) -> None:
        raise self.error


@pytest.mark.parametrize("error", [asyncio.CancelledError(), GeneratorExit()])
def test_a_plugin_raising_cancellation_is_its_failure(error: BaseException) -> None:
    security = _make(plugins=[Raising(error)])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_ERROR",)
    assert security.get_audit_log()[-1].outcome is Outcome.DENY


async def test_an_async_hook_raising_cancellation_is_its_failure() -> None:
    class AsyncRaising:
        name = "async_raising"

        @hookimpl
        async def agent_security_before_check(self, request: ActionRequest) -> None:
            raise asyncio.CancelledError

    security = _make(plugins=[AsyncRaising()])
    result = await security.acheck_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_ERROR",)
