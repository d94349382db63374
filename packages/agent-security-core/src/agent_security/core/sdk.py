"""Where ``AgentSecurity`` lived in 0.1; kept so that ``from agent_security.core.pipeline.facade import AgentSecurity``
goes on working. New code imports it from :mod:`agent_security.core`."""

from __future__ import annotations

from agent_security.core.pipeline.facade import AgentSecurity
from agent_security.core.resolution import request_hash

__all__ = ["AgentSecurity", "request_hash"]
