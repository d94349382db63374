"""The OpenAI Agents SDK adapter against the real SDK (openai-agents 0.25): a real Agent and Runner driven
by the SDK's own ScriptedModel, real function tools, real guardrail plumbing. Run with
``make test-openai-agents`` (its own environment: openai-agents needs openai>=3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, Runner, ToolInputGuardrailTripwireTriggered, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call

from agent_security.adapters.openai_agents import OpenAIAgentsGuard
from agent_security.core import AgentSecurity

POLICY = """
version: "1"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - {id: DENY_DELETE, match: {tool_name: delete_all, environment: "*"}, outcome: DENY}
  - {id: APPROVE_PAY, match: {tool_name: pay, environment: "*"}, outcome: REQUIRE_APPROVAL}
  - {id: ALLOW_REST, match: {tool_name: "*", environment: "*"}, outcome: ALLOW}
defaults: {outcome: DENY}
"""

AWS_KEY = "sk-" + "proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"


@pytest.fixture
def security() -> Any:
    sec = AgentSecurity(policy_json=POLICY)
    yield sec
    sec.shutdown()


class Tools:
    def __init__(self) -> None:
        self.ran: list[tuple[str, dict[str, Any]]] = []

        @function_tool
        def read_note(name: str) -> str:
            """Read a note."""
            self.ran.append(("read_note", {"name": name}))
            return f"note {name}: hello"

        @function_tool
        def delete_all(scope: str) -> str:
            """Delete everything."""
            self.ran.append(("delete_all", {"scope": scope}))
            return "deleted"

        @function_tool
        def pay(amount: int) -> str:
            """Pay."""
            self.ran.append(("pay", {"amount": amount}))
            return f"paid {amount}"

        @function_tool
        def read_secret(name: str) -> str:
            """Read a config value."""
            self.ran.append(("read_secret", {"name": name}))
            return f"the key is {AWS_KEY} for {name}"

        self.read_note, self.delete_all, self.pay, self.read_secret = read_note, delete_all, pay, read_secret


def tool_outputs(model: ScriptedModel) -> list[str]:
    """What the model was shown as tool outputs on its last call."""
    call = model.last_call
    assert call is not None
    items = call.input if isinstance(call.input, list) else []
    return [str(i.get("output")) for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"]


def agent_with(model: ScriptedModel, *tools: Any) -> Agent[Any]:
    return Agent(name="tester", instructions="test", model=model, tools=list(tools))


async def test_allowed_call_runs_and_output_reaches_model(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("read_note", {"name": "a"}, call_id="c1")], [assistant_message("done")]])
    result = await Runner.run(agent_with(model, guard.protect(t.read_note)), "go")
    assert result.final_output == "done"
    assert t.ran == [("read_note", {"name": "a"})]
    assert tool_outputs(model) == ["note a: hello"]


async def test_denied_call_never_runs_and_model_reads_reason(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("delete_all", {"scope": "prod"}, call_id="c1")], [assistant_message("ok")]])
    await Runner.run(agent_with(model, guard.protect(t.delete_all)), "go")
    assert t.ran == []
    [shown] = tool_outputs(model)
    assert "DENY_DELETE" in shown and "blocked" in shown


async def test_malformed_arguments_are_rejected_not_checked_as_empty(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("read_note", "[1, 2", call_id="c1")], [assistant_message("ok")]])
    await Runner.run(agent_with(model, guard.protect(t.read_note, approvals=False)), "go")
    assert t.ran == []
    [shown] = tool_outputs(model)
    assert "not valid JSON" in shown or "blocked" in shown


async def test_kill_switch_stops_the_run(security: Any) -> None:
    t = Tools()
    from agent_security.core.builtin import kill_switch

    switch = kill_switch()
    security.register_plugin(switch)
    guard = OpenAIAgentsGuard(security, agent_id="rogue")
    switch.kill("rogue", "compromised")
    model = ScriptedModel([[function_call("read_note", {"name": "a"}, call_id="c1")], [assistant_message("x")]])
    with pytest.raises(ToolInputGuardrailTripwireTriggered):
        await Runner.run(agent_with(model, guard.protect(t.read_note)), "go")
    assert t.ran == []


async def test_internal_error_aborts_the_run(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    security.shutdown()  # every check now raises: the guardrail must not let the tool run
    model = ScriptedModel([[function_call("read_note", {"name": "a"}, call_id="c1")], [assistant_message("x")]])
    with pytest.raises(Exception) as info:
        await Runner.run(agent_with(model, guard.protect(t.read_note)), "go")
    assert not isinstance(info.value, AssertionError)
    assert t.ran == []


async def test_secret_in_output_is_redacted_before_the_model_sees_it(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("read_secret", {"name": "x"}, call_id="c1")], [assistant_message("ok")]])
    await Runner.run(agent_with(model, guard.protect(t.read_secret)), "go")
    assert t.ran == [("read_secret", {"name": "x"})]
    [shown] = tool_outputs(model)
    assert AWS_KEY not in shown
    assert "for x" in shown  # the rest of the output is kept


async def test_approval_like_outcome_interrupts_then_runs_once_approved(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("pay", {"amount": 5}, call_id="c1")], [assistant_message("paid")]])
    agent = agent_with(model, guard.protect(t.pay))
    first = await Runner.run(agent, "go")
    assert t.ran == []
    [item] = first.interruptions
    assert item.tool_name == "pay"
    state = first.to_state()
    state.approve(item)
    second = await Runner.run(agent, state)
    assert second.final_output == "paid"
    assert t.ran == [("pay", {"amount": 5})]
    # the preview while the SDK waits for the human, then the check answered by the SDK's approval
    resolutions = [e for e in security.get_audit_log() if e.kind == "resolution" and e.tool_name == "pay"]
    assert [(e.allowed, e.reasons[-1].code) for e in resolutions] == [(False, "REJECTED"), (True, "APPROVED")]
    assert "OpenAI Agents SDK" in resolutions[-1].reasons[-1].message


async def test_approval_rejected_in_sdk_never_runs(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("pay", {"amount": 5}, call_id="c1")], [assistant_message("no")]])
    agent = agent_with(model, guard.protect(t.pay))
    first = await Runner.run(agent, "go")
    state = first.to_state()
    state.reject(first.interruptions[0])
    await Runner.run(agent, state)
    assert t.ran == []


async def test_approval_like_without_needs_approval_is_rejected(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("pay", {"amount": 5}, call_id="c1")], [assistant_message("no")]])
    result = await Runner.run(agent_with(model, guard.protect(t.pay, approvals=False)), "go")
    assert result.interruptions == []
    assert t.ran == []
    [shown] = tool_outputs(model)
    assert "APPROVE_PAY" in shown


async def test_allowed_call_is_checked_once(security: Any) -> None:
    t = Tools()
    guard = OpenAIAgentsGuard(security)
    model = ScriptedModel([[function_call("read_note", {"name": "a"}, call_id="c1")], [assistant_message("ok")]])
    await Runner.run(agent_with(model, guard.protect(t.read_note)), "go")
    assert len(_decisions(security, "read_note")) == 1


def _decisions(security: Any, tool: str) -> list[Any]:
    return [e for e in security.get_audit_log() if e.kind == "decision" and e.tool_name == tool]


async def test_guardrail_on_a_real_mcp_stdio_server(security: Any, tmp_path: Path) -> None:
    from agents.mcp import MCPServerStdio

    server_py = Path(__file__).parents[2] / "mcp_proxy" / "upstream_server.py"
    guard = OpenAIAgentsGuard(security)
    ran = tmp_path / "ran.log"
    params = {"command": sys.executable, "args": [str(server_py)], "env": {"UPSTREAM_LOG": str(ran)}}
    async with MCPServerStdio(params, cache_tools_list=False, **guard.mcp_server_options()) as server:
        model = ScriptedModel(
            [
                [function_call("delete_all", json.dumps({"scope": "prod"}), call_id="c1")],
                [function_call("echo", {"text": "hi"}, call_id="c2")],
                [assistant_message("done")],
            ]
        )
        agent = Agent(name="mcp-tester", instructions="t", model=model, mcp_servers=[server])
        await Runner.run(agent, "go")
    log = ran.read_text() if ran.exists() else ""
    assert "delete_all" not in log
    assert "echo" in log
