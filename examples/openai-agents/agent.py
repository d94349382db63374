"""agent-security guarding an OpenAI Agents SDK agent, offline: the SDK's own ScriptedModel plays the model.

    pip install 'agent-security-adapters[openai-agents]'    # or: make test-openai-agents (creates the env)
    python examples/openai-agents/agent.py

The model asks for three tools: a lookup (allowed; its output carries an API key, which is redacted before
the model reads it), a deletion (denied: the tool never runs, the model reads why) and a refund (needs a
human: the run pauses with an interruption, a person approves it, the run resumes and the refund runs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents import Agent, Runner, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

from agent_security.adapters.openai_agents import OpenAIAgentsGuard
from agent_security.core import AgentSecurity

KEY = "sk-" + "proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"


@function_tool
def lookup_customer(customer_id: str) -> str:
    """Look a customer up."""
    return f"customer {customer_id}: Ada, plan pro, api key {KEY}"


@function_tool
def delete_customer(customer_id: str) -> str:
    """Delete a customer."""
    raise SystemExit("never reached: the policy denies it")


@function_tool
def refund(customer_id: str, amount: int) -> str:
    """Refund a customer."""
    return f"refunded {amount} to {customer_id}"


async def main() -> None:
    set_tracing_disabled(True)  # offline: no trace export
    security = AgentSecurity(policy_path=Path(__file__).with_name("policy.yaml"))
    guard = OpenAIAgentsGuard(security, agent_id="support-bot")
    tools = [guard.protect(t) for t in (lookup_customer, delete_customer, refund)]
    model = ScriptedModel(
        [
            [function_call("lookup_customer", {"customer_id": "c-1"}, call_id="1")],
            [function_call("delete_customer", {"customer_id": "c-1"}, call_id="2")],
            [function_call("refund", {"customer_id": "c-1", "amount": 20}, call_id="3")],
            [assistant_message("All done.")],
        ]
    )
    agent = Agent(name="support-bot", instructions="Help customers.", model=model, tools=tools)

    shown: set[str] = set()

    def show(result: object) -> None:
        for item in getattr(result, "new_items", ()):
            if item.type == "tool_call_output_item" and str(item.output) not in shown:
                shown.add(str(item.output))
                print(f"model read: {item.output}")

    result = await Runner.run(agent, "Sort out customer c-1")
    show(result)
    while result.interruptions:
        state = result.to_state()
        for interruption in result.interruptions:
            print(f"approval needed: {interruption.tool_name} {interruption.arguments}: a person approves")
            state.approve(interruption)
        result = await Runner.run(agent, state)
        show(result)
    print(f"final: {result.final_output}")
    security.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
