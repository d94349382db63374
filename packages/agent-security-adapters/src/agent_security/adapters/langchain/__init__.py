"""LangChain 1.x adapter (extra ``agent-security-adapters[langchain]``): importing this package imports
LangChain. :class:`AgentSecurityMiddleware` for ``create_agent`` and :func:`secure_tool` for a classic
``BaseTool``."""

from __future__ import annotations

from agent_security.adapters.framework import AgentHalted
from agent_security.adapters.langchain.middleware import AgentSecurityMiddleware, ApprovalMode
from agent_security.adapters.langchain.tools import secure_tool

__all__ = ["AgentHalted", "AgentSecurityMiddleware", "ApprovalMode", "secure_tool"]
