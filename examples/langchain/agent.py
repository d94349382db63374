"""A LangChain 1.x agent guarded by agent-security, offline (a scripted chat model).

Run: make test-langchain (creates .venv-langchain), then
     .venv-langchain/bin/python examples/langchain/agent.py
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agent_security.adapters.langchain import AgentSecurityMiddleware
from agent_security.core import AgentSecurity

POLICY = Path(__file__).parents[1] / "policies" / "default-policy.yaml"


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self


@tool
def query_customer_db(query: str) -> str:
    """Query the customer database."""
    return "3 rows"


@tool
def trigger_payment(amount: int, currency: str) -> str:
    """Trigger a payment."""
    return f"paid {amount} {currency}"


def calls(*items: tuple[str, dict[str, Any], str]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": i, "type": "tool_call"} for n, a, i in items])


def main() -> None:
    model = ScriptedModel(
        messages=iter(
            [
                calls(("query_customer_db", {"query": "select * from customers"}, "c1")),
                calls(("trigger_payment", {"amount": 5000, "currency": "USD"}, "c2")),
                AIMessage(content="done"),
            ]
        )
    )
    with AgentSecurity(policy_path=POLICY, autoload=False, default_environment="prod") as security:
        agent = create_agent(
            model,
            tools=[query_customer_db, trigger_payment],
            middleware=[AgentSecurityMiddleware(security, agent_id="analyst")],
            checkpointer=InMemorySaver(),
        )
        config = {"configurable": {"thread_id": "demo"}}
        state = agent.invoke({"messages": [{"role": "user", "content": "export all customers"}]}, config, version="v2")
        [pending] = state.interrupts
        print("interrupt:", pending.value["tool_name"], pending.value["outcome"], pending.value["reasons"][0]["code"])
        state = agent.invoke(Command(resume={"type": "approve", "reviewer": "finance-1"}), config, version="v2")
        for message in state.value["messages"]:
            if isinstance(message, ToolMessage):
                print(f"{message.name}: [{message.status}] {message.content}")


if __name__ == "__main__":
    main()
