"""What a plugin may change in the request (labels, redacted arguments) and what it may not (what policy
and limits key on).

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Decision,
    PluginResult,
    hookimpl,
)
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))

DENY = _engine(lambda r: Decision.deny("TOOL_FORBIDDEN", "the tool is forbidden"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


# ------------------------------------------------------------------------------------------------
# F15 (low): a before_check replacement could change anything but the agent, the tool name and the
# request id: drop the caller's data labels (a policy's data_labels_any DENY no longer matched), turn a
# "shell" action into a "tool_call", swap the tool identity or the session (escaping session limits);
# an identify plugin could even rename the tool.
# ------------------------------------------------------------------------------------------------


def _rewriter(phase: str, **changes: Any) -> Any:
    def hook(self: Any, request: Any, ctx: Any) -> PluginResult:
        update: dict[str, Any] = {}
        if "context" in changes:
            update["context"] = request.context.model_copy(update=changes["context"])
        if "action" in changes:
            update["action"] = request.action.model_copy(update=changes["action"])
        return PluginResult(request=request.model_copy(update=update))

    hook.__name__ = f"agent_security_{phase}"
    return type("Rewriter", (), {"name": "rewriter", hook.__name__: hookimpl(hook)})()


@pytest.mark.parametrize(
    ("phase", "changes"),
    [
        ("before_check", {"context": {"data_labels": ()}}),
        ("before_check", {"action": {"type": "tool_call"}}),
        ("before_check", {"context": {"session_id": "fresh"}}),
        ("before_check", {"action": {"tool_identity": None}}),
        ("identify", {"action": {"tool_name": "harmless"}}),
    ],
)
def test_plugins_cannot_rewrite_what_policy_and_limits_key_on(phase: str, changes: dict[str, Any]) -> None:
    security = _make(plugins=[_rewriter(phase, **changes)])
    result = security.check_tool_call(
        tool_name="run",
        agent_id="a",
        action_type="shell",
        data_labels=["PII"],
        session_id="s1",
        tool_identity={"tool_name": "run", "provider": "x"},
    )
    assert result.allowed is False
    assert result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)


def test_plugins_may_still_add_labels_and_redact_arguments() -> None:
    class Enrich:
        name = "enrich"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
            return PluginResult(
                request=request.model_copy(
                    update={
                        "context": request.context.model_copy(
                            update={"data_labels": (*request.context.data_labels, "SECRET")}
                        ),
                        "action": request.action.model_copy(update={"tool_args": {"q": "[REDACTED]"}}),
                    }
                )
            )

    security = _make(plugins=[Enrich()])
    result = security.check_tool_call(tool_name="run", agent_id="a", data_labels=["PII"], tool_args={"q": "x"})
    assert result.allowed is True
    assert result.request.context.data_labels == ("PII", "SECRET")
    assert result.tool_args == {"q": "[REDACTED]"}


def test_a_replacement_request_that_cannot_be_hashed_is_refused() -> None:
    class NaNWriter:
        name = "nan_writer"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
            action = request.action.model_copy(update={"tool_args": {"amount": float("nan")}})
            return PluginResult(request=request.model_copy(update={"action": action}))

    for mode in ("enforce", "observe"):
        security = _make(plugins=[NaNWriter()], mode=mode)
        result = security.check_tool_call(tool_name="t", agent_id="a", tool_args={"amount": 1})
        assert result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)
        assert "cannot be hashed" in result.final_decision.reasons[0].message
