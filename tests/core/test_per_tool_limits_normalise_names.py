"""Per-tool limits (session context, rate limiter) key on the normalised tool name, as the policy does.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

from agent_security.core import (
    AgentSecurity,
    Decision,
)
from agent_security.core.builtin.rate_limiter import rate_limiter
from agent_security.core.builtin.session_context import session_context
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F6 (medium): per-tool limits (session context, rate limiter) compared raw tool names while policy
# compares normalised ones, so "Send_Email" or "send_email\u200b" matched the policy's send_email rule but
# escaped the per-tool limit.
# ------------------------------------------------------------------------------------------------


def test_session_limit_applies_to_normalised_tool_name() -> None:
    security = _make(plugins=[session_context({"send_email": 1})])
    first = security.check_tool_call(tool_name="send_email", agent_id="a", session_id="s")
    assert first.allowed is True
    for variant in ("Send_Email", "send_email\u200b", "\uff53\uff45\uff4e\uff44_email"):
        again = security.check_tool_call(tool_name=variant, agent_id="a", session_id="s")
        assert again.allowed is False, variant
        assert "SESSION_LIMIT_EXCEEDED" in again.final_decision.codes


def test_per_tool_rate_limit_applies_to_normalised_tool_name() -> None:
    security = _make(plugins=[rate_limiter(max_per_minute_per_tool=1)])
    assert security.check_tool_call(tool_name="send_email", agent_id="a").allowed is True
    again = security.check_tool_call(tool_name="SEND_EMAIL", agent_id="a")
    assert again.allowed is False
    assert "RATE_LIMIT_TOOL" in again.final_decision.codes
