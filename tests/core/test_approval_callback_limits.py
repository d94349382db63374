"""Approval callbacks are bounded: they run on the instance's own threads (never the event loop's
default executor), hung reviews make further approvals fail fast, and cancelling a pending approval is
audited and gives back what the check reserved."""

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
)
from agent_security.core.builtin import session_context
from agent_security.core.testing import StaticEngine

ALLOW = Decision(outcome=Outcome.ALLOW, reasons=(Reason(code="OK", message="ok"),))
GATE = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="GATE", message="gate"),))


def make(decision: Decision = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=StaticEngine(lambda r: decision), autoload=False, **kw)


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
    hung = [
        threading.Thread(target=lambda: results.append(security.check_tool_call(tool_name="pay", agent_id="a")))
        for _ in range(2)
    ]
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


# ------------------------------------------------------------------------------------------------
# F18 (low): the async driver ran blocking approval callbacks with asyncio.to_thread, i.e. on the event
# loop's default executor (min(32, CPUs + 4) threads). Callbacks that outlive their timeout (a pending
# human review) kept those threads, starving the application's own to_thread calls and asyncio's
# getaddrinfo. The sync driver already used a private pool; the async one now does too.
# ------------------------------------------------------------------------------------------------


async def test_async_approval_callbacks_do_not_use_the_default_executor() -> None:
    threads: list[str] = []

    def approve(request: Any, decision: Any) -> bool:
        threads.append(threading.current_thread().name)
        return True

    security = make(GATE, on_approval_required=approve)
    result = await security.acheck_tool_call(tool_name="pay", agent_id="a")
    assert result.allowed is True
    assert threads and threads[0].startswith("agent-security")
