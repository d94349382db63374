"""Framework tests that need packages the workspace environment does not have run in environments of their
own (``make test-openai-agents``, ``make test-mcp1``). Here they are not collected unless that environment
is the one running them, and the report header says so: never a silent skip."""

from __future__ import annotations

import importlib.util
import os

import pytest

_NEEDS = {
    "openai_agents": (
        "the OpenAI Agents SDK (agents)",
        lambda: importlib.util.find_spec("agents") is not None,
        "make test-openai-agents",
    ),
    "mcp1": (
        "an mcp 1.x client environment (AGENT_SECURITY_MCP1_PYTHON)",
        lambda: bool(os.environ.get("AGENT_SECURITY_MCP1_PYTHON")),
        "make test-mcp1",
    ),
}

collect_ignore: list[str] = []
_NOT_COLLECTED: list[str] = []
for _folder, (_what, _present, _target) in _NEEDS.items():
    if not _present():
        collect_ignore.append(_folder)
        _NOT_COLLECTED.append(f"tests/adapters/frameworks/{_folder} (needs {_what}; run: {_target})")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"not collected here: {n}" for n in _NOT_COLLECTED]
