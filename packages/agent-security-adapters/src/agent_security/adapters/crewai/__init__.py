"""CrewAI adapter (extra ``agent-security-adapters[crewai]``): importing this package imports CrewAI.

:class:`CrewAIGuard` installs before/after tool-call hooks; :func:`secure_tool` wraps a tool for the paths
where CrewAI's hooks do not fire."""

from __future__ import annotations

from agent_security.adapters.crewai.hooks import CrewAIGuard, install
from agent_security.adapters.crewai.tools import secure_tool
from agent_security.adapters.framework import AgentHalted

__all__ = ["AgentHalted", "CrewAIGuard", "install", "secure_tool"]
