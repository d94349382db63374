"""AgentSecurityMiddleware inside a real ``create_agent`` graph (langchain 1.5), driven by a scripted chat
model, with a real checkpointer for interrupts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from agent_security.adapters.framework import AgentHalted
from agent_security.adapters.langchain import AgentSecurityMiddleware
from agent_security.core import AgentSecurity, ExecutionResult, hookimpl
from agent_security.core.builtin import kill_switch


class ScriptedModel(GenericFakeChatModel):
    """langchain_core's fake chat model, answering with the scripted messages in order (tool calls
    included); ``bind_tools`` keeps the script."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self


def script(*messages: AIMessage) -> ScriptedModel:
    return ScriptedModel(messages=iter(messages))


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def done(text: str = "done") -> AIMessage:
    return AIMessage(content=text)


RAN: list[tuple[str, dict[str, Any]]] = []


@tool
def read_file(path: str) -> str:
    """Read a file."""
    RAN.append(("read_file", {"path": path}))
    return f"contents of {path}: token=sk-SECRET"


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


TOOLS = [read_file, send_email, pay]


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


def tool_messages(state: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in state["messages"] if isinstance(m, ToolMessage)]


def audited(security: AgentSecurity, tool_name: str, kind: str = "decision") -> list[Any]:
    return [e for e in security.get_audit_log() if e.kind == kind and e.tool_name == tool_name]


def agent(security: AgentSecurity, *messages: AIMessage, middleware: Sequence[Any] = (), **kw: Any) -> Any:
    return create_agent(
        script(*messages),
        tools=TOOLS,
        middleware=list(middleware) or [AgentSecurityMiddleware(security, **kw)],
        checkpointer=InMemorySaver(),
    )


CONFIG = {"configurable": {"thread_id": "t-1"}}
ASK = {"messages": [{"role": "user", "content": "go"}]}


def test_allowed_call_runs_and_is_audited_with_thread_as_session(security: AgentSecurity) -> None:
    graph = agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done())
    state = graph.invoke(ASK, CONFIG)
    assert RAN == [("read_file", {"path": "/tmp/a"})]
    assert tool_messages(state)[0].status == "success"
    [event] = audited(security, "read_file")
    assert event.allowed and event.agent_id == "langchain-agent"


def test_denied_call_never_runs_and_the_model_reads_the_reason(security: AgentSecurity) -> None:
    graph = agent(security, call("read_file", {"path": "/etc/shadow"}, "c1"), done())
    state = graph.invoke(ASK, CONFIG)
    assert RAN == []
    [message] = tool_messages(state)
    assert message.status == "error" and message.tool_call_id == "c1" and message.name == "read_file"
    assert "DENY_SYSTEM_FILES" in str(message.content)


async def test_async_denied_call_never_runs(security: AgentSecurity) -> None:
    graph = agent(security, call("send_email", {"to": "x@evil.example", "body": "hi"}, "c1"), done())
    state = await graph.ainvoke(ASK, CONFIG)
    assert RAN == []
    assert "DENY_OUTSIDE_EMAIL" in str(tool_messages(state)[0].content)


async def test_async_allowed_call_runs(security: AgentSecurity) -> None:
    graph = agent(security, call("send_email", {"to": "a@corp.example", "body": "hi"}, "c1"), done())
    await graph.ainvoke(ASK, CONFIG)
    assert RAN == [("send_email", {"to": "a@corp.example", "body": "hi"})]


def test_agent_id_and_session_are_configurable(security: AgentSecurity) -> None:
    graph = agent(
        security,
        call("read_file", {"path": "/tmp/a"}, "c1"),
        done(),
        agent_id=lambda request: "reader-7",
        environment="staging",
    )
    graph.invoke(ASK, {"configurable": {"thread_id": "thread-42"}})
    [event] = audited(security, "read_file")
    assert event.agent_id == "reader-7" and event.environment == "staging"
    assert security.get_audit_log()[-1].request_hash  # the call was hashed with its session


class Redactor:
    name = "redactor"

    @hookimpl
    def agent_security_after_execution(self, request: Any, decision: Any, result: Any, error: Any, ctx: Any) -> Any:
        if isinstance(result, str) and "sk-" in result:
            return ExecutionResult(replace=True, result=result.replace("sk-SECRET", "[REDACTED]"))
        return None


class Withholder:
    name = "withholder"

    @hookimpl
    def agent_security_after_execution(self, request: Any, decision: Any, result: Any, error: Any, ctx: Any) -> Any:
        from agent_security.core import Decision

        return ExecutionResult(block=Decision.deny("DLP_BLOCK", "output carries a secret"))


def test_result_is_redacted_in_the_tool_message(security: AgentSecurity) -> None:
    security.register_plugin(Redactor())
    state = agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done()).invoke(ASK, CONFIG)
    [message] = tool_messages(state)
    assert "sk-SECRET" not in str(message.content) and "[REDACTED]" in str(message.content)


async def test_result_is_withheld_async(security: AgentSecurity) -> None:
    security.register_plugin(Withholder())
    state = await agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done()).ainvoke(ASK, CONFIG)
    [message] = tool_messages(state)
    assert message.status == "error" and "DLP_BLOCK" in str(message.content)
    assert "sk-SECRET" not in str(message.content)


def test_a_failing_check_denies(security: AgentSecurity) -> None:
    class Broken:
        name = "broken"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> Any:
            raise RuntimeError("store down")

    security.register_plugin(Broken())
    state = agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done()).invoke(ASK, CONFIG)
    assert RAN == []
    assert "PLUGIN_ERROR" in str(tool_messages(state)[0].content)


def test_a_closed_instance_denies_with_adapter_error(security: AgentSecurity) -> None:
    graph = agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done())
    security.shutdown()
    state = graph.invoke(ASK, CONFIG)
    assert RAN == []
    assert "ADAPTER_ERROR" in str(tool_messages(state)[0].content)


def test_kill_raises_and_the_tool_does_not_run(policy: str) -> None:
    ks = kill_switch()
    with AgentSecurity(policy_json=policy, autoload=False, default_environment="dev", plugins=[ks]) as security:
        ks.kill("langchain-agent", "incident 7")
        graph = agent(security, call("read_file", {"path": "/tmp/a"}, "c1"), done())
        with pytest.raises(AgentHalted) as caught:
            graph.invoke(ASK, CONFIG)
    assert RAN == []
    assert "AGENT_KILL_SWITCH" in caught.value.codes
