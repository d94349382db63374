"""Failures that used to escape the pipeline: each one is now a denial that is audited.

A plugin or callback that raises ``CancelledError`` or ``GeneratorExit`` itself, an argument object whose
``str()`` raises, a plugin's replacement request that cannot be hashed, a policy loader that fails on
reload, and a task cancelled while an approval is pending.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    hookimpl,
)
from agent_security.core.builtin import session_context
from agent_security.core.testing import StaticEngine

ALLOW = Decision(outcome=Outcome.ALLOW, reasons=(Reason(code="OK", message="ok"),))
GATE = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="GATE", message="gate"),))


def make(decision: Decision = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=StaticEngine(lambda r: decision), autoload=False, **kw)


class Raising:
    name = "raising"

    def __init__(self, error: BaseException) -> None:
        self.error = error

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest) -> None:
        raise self.error


@pytest.mark.parametrize("error", [asyncio.CancelledError(), GeneratorExit()])
def test_a_plugin_raising_cancellation_is_its_failure(error: BaseException) -> None:
    security = make(plugins=[Raising(error)])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_ERROR",)
    assert security.get_audit_log()[-1].outcome is Outcome.DENY


async def test_an_async_hook_raising_cancellation_is_its_failure() -> None:
    class AsyncRaising:
        name = "async_raising"

        @hookimpl
        async def agent_security_before_check(self, request: ActionRequest) -> None:
            raise asyncio.CancelledError

    security = make(plugins=[AsyncRaising()])
    result = await security.acheck_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_ERROR",)


def test_an_argument_whose_str_raises_is_an_invalid_request() -> None:
    class Exploding:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    security = make()
    result = security.check_tool_call(tool_name="t", agent_id="a", tool_args={"x": Exploding()})
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)
    assert "RuntimeError" in result.final_decision.reasons[0].message


def test_a_replacement_request_that_cannot_be_hashed_is_refused() -> None:
    class NaNWriter:
        name = "nan_writer"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
            action = request.action.model_copy(update={"tool_args": {"amount": float("nan")}})
            return PluginResult(request=request.model_copy(update={"action": action}))

    for mode in ("enforce", "observe"):
        security = make(plugins=[NaNWriter()], mode=mode)
        result = security.check_tool_call(tool_name="t", agent_id="a", tool_args={"amount": 1})
        assert result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)
        assert "cannot be hashed" in result.final_decision.reasons[0].message


def test_every_failed_reload_is_audited() -> None:
    def loader() -> Any:
        raise RuntimeError("policy service unreachable")

    security = AgentSecurity(policy_engine=StaticEngine(lambda r: ALLOW), policy_loader=loader, autoload=False)
    with pytest.raises(RuntimeError):
        security.reload_policy()
    event = security.get_audit_log()[-1]
    assert event.kind == "error" and event.reasons[0].code == "POLICY_RELOAD_FAILED"
    assert "unreachable" in event.reasons[0].message
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed  # the old policy stays


async def test_cancelling_a_pending_approval_is_audited_and_releases_the_session_slot() -> None:
    started = asyncio.Event()

    async def never_answers(request: ActionRequest, decision: Decision) -> bool:
        started.set()
        await asyncio.Event().wait()
        return True

    limits = session_context({"pay": 1})
    security = make(GATE, plugins=[limits], on_approval_required=never_answers, approval_timeout_s=3600)
    task = asyncio.ensure_future(security.acheck_tool_call(tool_name="pay", agent_id="a", session_id="s"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = security.get_audit_log()[-1]
    assert last.kind == "resolution" and last.outcome is Outcome.DENY
    assert last.reasons[-1].code == "CHECK_CANCELLED"
    assert limits.get_session_tool_count("s", "pay") == 0  # the slot it reserved is given back


class Alerting:
    name = "alerting"

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: Any) -> None:
        ctx.alert("SECRET_SEEN", "a secret was seen", self.data)


class RefusesAlerts:
    name = "refuses_alerts"

    @hookimpl
    def agent_security_audit_event(self, event: Any) -> None:
        if event.kind == "alert":
            raise OSError("disk full")


def test_an_alert_the_trail_refuses_withdraws_the_allow() -> None:
    security = make(plugins=[Alerting({"where": "body"}), RefusesAlerts()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed
    assert result.final_decision.codes[-2:] == ("PLUGIN_ERROR", "AUDIT_FAILURE")
    kinds = [e.kind for e in result.events]
    assert kinds == ["decision", "alert", "resolution"] and result.events[-1].outcome is Outcome.DENY


def test_alert_data_is_bounded_like_arguments() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    security = make(plugins=[Alerting(deep)])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed
    alert = next(e for e in result.events if e.kind == "alert")
    assert alert.data == {"unrecordable": "InputTooLarge"}


def test_hung_reviews_make_further_approvals_fail_fast_not_wait() -> None:
    import threading

    release = threading.Event()
    started = threading.Semaphore(0)

    def slow_reviewer(request: ActionRequest, decision: Decision) -> bool:
        started.release()
        release.wait()
        return True

    security = make(GATE, on_approval_required=slow_reviewer, max_pending_callbacks=2, approval_timeout_s=3600)
    results: list[Any] = []
    hung = [threading.Thread(target=lambda: results.append(security.check_tool_call(tool_name="pay", agent_id="a")))
            for _ in range(2)]
    for t in hung:
        t.start()
    for _ in hung:
        started.acquire()  # both reviews are pending: every worker of this instance is busy
    refused = security.check_tool_call(tool_name="pay", agent_id="b")
    assert not refused.allowed and refused.final_decision.codes[-1] == "APPROVAL_UNAVAILABLE"
    # Another instance's approvals are not held up by this one's pending reviews.
    other = make(GATE, on_approval_required=lambda r, d: True)
    assert other.check_tool_call(tool_name="pay", agent_id="c").allowed
    release.set()
    for t in hung:
        t.join()
    assert [r.allowed for r in results] == [True, True]
    assert security.check_tool_call(tool_name="pay", agent_id="d").allowed  # the workers are free again


def test_max_pending_callbacks_is_validated() -> None:
    from agent_security.core import ConfigurationError

    for bad in (0, -1, True, 1.5, 5000):
        with pytest.raises(ConfigurationError, match="max_pending_callbacks"):
            make(max_pending_callbacks=bad)
