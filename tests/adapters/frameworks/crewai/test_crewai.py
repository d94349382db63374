"""CrewAIGuard and secure_tool against crewai 1.15: CrewAI's own native tool-call executor
(``execute_single_native_tool_call``, the path an agent's function call takes, hooks included), offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from crewai.hooks import clear_all_tool_call_hooks
from crewai.tools import BaseTool
from crewai.utilities.agent_utils import convert_tools_to_openai_schema, execute_single_native_tool_call
from pydantic import BaseModel

from agent_security.adapters.crewai import AgentHalted, CrewAIGuard, install, secure_tool
from agent_security.core import AgentSecurity, Decision, ExecutionResult, hookimpl
from agent_security.core.builtin import kill_switch

POLICY = """
version: "1.0.0"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - id: DENY_SYSTEM_FILES
    match: {tool_name: read_file, environment: "*"}
    when: {tool_args_match: {path: {regex: "^/etc/"}}}
    outcome: DENY
  - id: ALLOW_REST
    match: {tool_name: "*", environment: "*"}
    outcome: ALLOW
defaults: {outcome: DENY}
"""

RAN: list[str] = []


class PathArgs(BaseModel):
    path: str


class ReadFile(BaseTool):
    name: str = "read_file"
    description: str = "Read a file."
    args_schema: type[BaseModel] = PathArgs

    def _run(self, path: str) -> str:
        RAN.append(path)
        return f"contents of {path}: token=sk-SECRET"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    RAN.clear()
    clear_all_tool_call_hooks()
    yield
    clear_all_tool_call_hooks()


@pytest.fixture
def security() -> Iterator[AgentSecurity]:
    with AgentSecurity(policy_json=POLICY, autoload=False) as sec:
        yield sec


def run_call(tools: list[BaseTool], name: str, args: dict[str, Any]) -> str:
    """One tool call through CrewAI's native executor, as an agent's LLM function call would arrive."""
    _, functions, _ = convert_tools_to_openai_schema(tools)
    tool_call = SimpleNamespace(id="call-1", function=SimpleNamespace(name=name, arguments=json.dumps(args)))
    result = execute_single_native_tool_call(
        tool_call,
        available_functions=functions,
        original_tools=tools,
        structured_tools=[t.to_structured_tool() for t in tools],
        tools_handler=None,
        agent=None,
        task=None,
        crew=None,
        event_source=object(),
    )
    return str(result.result)


def test_allowed_call_runs(security: AgentSecurity) -> None:
    install(security)
    assert "contents of /tmp/a" in run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert RAN == ["/tmp/a"]


def test_denied_call_never_runs_and_the_model_reads_our_reason(security: AgentSecurity) -> None:
    install(security)
    out = run_call([ReadFile()], "read_file", {"path": "/etc/shadow"})
    assert RAN == []
    assert "DENY_SYSTEM_FILES" in out and "blocked by hook" not in out


def test_without_the_guard_the_call_runs() -> None:
    run_call([ReadFile()], "read_file", {"path": "/etc/shadow"})
    assert RAN == ["/etc/shadow"]  # the tests above can fail


class Exploding:
    name = "exploding"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> Any:
        raise RuntimeError("boom")


def test_a_plugin_that_raises_still_blocks(security: AgentSecurity) -> None:
    security.register_plugin(Exploding())
    install(security)
    out = run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert RAN == [] and "PLUGIN_ERROR" in out


def test_an_internal_error_of_the_adapter_still_blocks(security: AgentSecurity) -> None:
    """CrewAI swallows every hook exception but HookAborted: a bug of ours must not let the tool run."""

    def broken_agent_id(ctx: Any) -> str:
        raise KeyError("no agent")

    install(security, agent_id=broken_agent_id)
    out = run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert RAN == [] and "ADAPTER_ERROR" in out


def test_a_closed_instance_blocks(security: AgentSecurity) -> None:
    install(security)
    security.shutdown()
    run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert RAN == []


def test_kill_blocks(security: AgentSecurity) -> None:
    ks = kill_switch()
    security.register_plugin(ks)
    ks.kill("crewai-agent", "incident")
    install(security)
    out = run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert RAN == [] and "AGENT_KILL_SWITCH" in out and "halted" in out


class Redactor:
    name = "redactor"

    @hookimpl
    def agent_security_after_execution(self, request: Any, decision: Any, result: Any, error: Any, ctx: Any) -> Any:
        if isinstance(result, str) and "sk-SECRET" in result:
            return ExecutionResult(replace=True, result=result.replace("sk-SECRET", "[REDACTED]"))
        return None


def test_output_is_redacted(security: AgentSecurity) -> None:
    security.register_plugin(Redactor())
    install(security)
    out = run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert "sk-SECRET" not in out and "[REDACTED]" in out


class Withholder:
    name = "withholder"

    @hookimpl
    def agent_security_after_execution(self, request: Any, decision: Any, result: Any, error: Any, ctx: Any) -> Any:
        return ExecutionResult(block=Decision.deny("DLP_BLOCK", "secret in output"))


def test_output_is_withheld(security: AgentSecurity) -> None:
    security.register_plugin(Withholder())
    install(security)
    out = run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    assert "sk-SECRET" not in out and "DLP_BLOCK" in out


def test_audit_names_the_agent_role_and_one_decision_per_call(security: AgentSecurity) -> None:
    with CrewAIGuard(security, agent_id="researcher"):
        run_call([ReadFile()], "read_file", {"path": "/tmp/a"})
    run_call([ReadFile()], "read_file", {"path": "/tmp/b"})  # uninstalled: not checked
    decisions = [e for e in security.get_audit_log() if e.kind == "decision" and e.tool_name == "read_file"]
    assert [e.agent_id for e in decisions] == ["researcher"]


# -- the wrapper -------------------------------------------------------------------------------------------
def test_wrapper_denies_without_hooks(security: AgentSecurity) -> None:
    guarded = secure_tool(ReadFile(), security)
    assert "DENY_SYSTEM_FILES" in str(guarded.run(path="/etc/passwd"))
    assert RAN == []
    assert "contents of /tmp/a" in str(guarded.run(path="/tmp/a"))
    assert RAN == ["/tmp/a"]


def test_wrapper_and_hooks_together_check_once(security: AgentSecurity) -> None:
    install(security)
    guarded = secure_tool(ReadFile(), security)
    out = run_call([guarded], "read_file", {"path": "/etc/passwd"})
    assert RAN == [] and "DENY_SYSTEM_FILES" in out
    decisions = [e for e in security.get_audit_log() if e.kind == "decision"]
    assert len(decisions) == 1


def test_wrapper_kill_raises(security: AgentSecurity) -> None:
    ks = kill_switch()
    security.register_plugin(ks)
    ks.kill("crewai-agent", "incident")
    with pytest.raises(AgentHalted):
        secure_tool(ReadFile(), security)._run(path="/tmp/a")
    assert RAN == []


async def test_wrapper_async(security: AgentSecurity) -> None:
    guarded = secure_tool(ReadFile(), security)
    assert "DENY_SYSTEM_FILES" in str(await guarded._arun(path="/etc/passwd"))
    assert RAN == []
