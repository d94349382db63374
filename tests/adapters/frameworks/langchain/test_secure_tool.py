"""secure_tool: a classic BaseTool behind the pipeline (a denial is a ToolException the model reads)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool

from agent_security.adapters.langchain import AgentHalted, secure_tool
from agent_security.core import AgentSecurity
from agent_security.core.builtin import kill_switch


class ReadFile(BaseTool):
    name: str = "read_file"
    description: str = "Read a file."
    calls: list[str] = []

    def _run(self, path: str) -> str:
        self.calls.append(path)
        return f"contents of {path}"

    async def _arun(self, path: str) -> str:
        self.calls.append(path)
        return f"contents of {path}"


def test_allowed_runs_denied_does_not(security: AgentSecurity) -> None:
    inner = ReadFile(calls=[])
    guarded = secure_tool(inner, security, agent_id="reader")
    assert guarded.invoke({"path": "/tmp/a"}) == "contents of /tmp/a"
    denied = guarded.invoke({"path": "/etc/shadow"})
    assert inner.calls == ["/tmp/a"]
    assert "DENY_SYSTEM_FILES" in denied


async def test_async_denied_does_not_run(security: AgentSecurity) -> None:
    inner = ReadFile(calls=[])
    denied = await secure_tool(inner, security).ainvoke({"path": "/etc/passwd"})
    assert inner.calls == [] and "DENY_SYSTEM_FILES" in denied


def test_kill_raises(policy: str) -> None:
    ks = kill_switch()
    with AgentSecurity(policy_json=policy, autoload=False, plugins=[ks]) as security:
        ks.kill("reader", "stop")
        inner = ReadFile(calls=[])
        with pytest.raises(AgentHalted):
            secure_tool(inner, security, agent_id="reader").invoke({"path": "/tmp/a"})
    assert inner.calls == []


def test_schema_and_name_are_kept(security: AgentSecurity) -> None:
    guarded: Any = secure_tool(ReadFile(calls=[]), security)
    assert guarded.name == "read_file" and "path" in guarded.args
