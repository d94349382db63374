"""Framework adapter tests (``frameworks/<name>/``) run in environments of their own, created by
``make test-<name>`` (the target sets ``AGENT_SECURITY_FRAMEWORK=<name>``). Elsewhere they are not
collected at all, and the report header says so: the main environment has no framework installed, and a
collection-time skip would hide that."""

from __future__ import annotations

import os

import pytest

FRAMEWORKS = {
    "langchain": "make test-langchain",
    "crewai": "make test-crewai",
    "openai_agents": "make test-openai-agents",
    "mcp1": "make test-mcp1",
    "claude_agent_sdk": "make test-claude-agent-sdk",
}
_chosen = os.environ.get("AGENT_SECURITY_FRAMEWORK", "")
collect_ignore = [f"frameworks/{name}" for name in FRAMEWORKS if name != _chosen]


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"not collected here: tests/adapters/frameworks/{n} (run: {t})" for n, t in FRAMEWORKS.items() if n != _chosen
    ]
