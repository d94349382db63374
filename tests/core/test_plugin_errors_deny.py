"""A plugin that raises in any hook makes the check DENY with PLUGIN_ERROR, and the denial is audited."""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import AgentSecurity, Decision, Outcome, PluginLoadError, Reason, hookimpl
from agent_security.core.testing import StaticEngine


class Exploding(Exception):
    pass


def _raiser(hook: str, argnames: str) -> Any:
    ns: dict[str, Any] = {"Exploding": Exploding}
    exec(f"def {hook}(self, {argnames}):\n    raise Exploding('boom: secret-value-123')", ns)
    return hookimpl(ns[hook])


CHECK_HOOKS = {
    "agent_security_identify": "request, ctx",
    "agent_security_before_check": "request, ctx",
    "agent_security_evaluate": "request, ctx",
    "agent_security_after_decision": "request, decision, ctx",
    "agent_security_resolve": "request, decision, ctx",
    "agent_security_notify": "request, decision, ctx",
    "agent_security_audit_event": "event",
}


def _plugin(hook: str) -> Any:
    cls = type(f"Raise_{hook}", (), {"name": "raiser", hook: _raiser(hook, CHECK_HOOKS[hook])})
    return cls()


def _engine(outcome: Outcome) -> StaticEngine:
    return StaticEngine(lambda r: Decision(outcome=outcome, reasons=(Reason(code="RULE", message="m"),)))


@pytest.mark.parametrize("hook", sorted(CHECK_HOOKS))
def test_raising_hook_denies_with_plugin_error_and_is_audited(hook: str) -> None:
    # The resolve hook only runs for approval-like outcomes; the others run on an ALLOW.
    outcome = Outcome.REQUIRE_APPROVAL if hook == "agent_security_resolve" else Outcome.ALLOW
    security = AgentSecurity(
        policy_engine=_engine(outcome), plugins=[_plugin(hook)], autoload=False, on_approval_required=lambda r, d: True
    )
    result = security.check_tool_call(tool_name="t", agent_id="a", environment="dev")
    assert result.allowed is False
    assert result.final_decision.outcome is Outcome.DENY
    assert "PLUGIN_ERROR" in result.final_decision.codes
    plugin_reason = next(r for r in result.final_decision.reasons if r.code == "PLUGIN_ERROR")
    assert 'Plugin "raiser"' in plugin_reason.message
    assert "secret-value-123" not in plugin_reason.message  # exception text never reaches the trail
    log = security.get_audit_log()
    decision_events = [e for e in log if e.request_id == result.request.request_id]
    assert decision_events, "the check left no audit event"
    if hook != "agent_security_audit_event":
        assert any("PLUGIN_ERROR" in [r.code for r in e.reasons] for e in decision_events)


def test_fail_open_plugin_is_skipped_and_the_error_is_reported() -> None:
    plugin = _plugin("agent_security_before_check")
    plugin.fail_open = True
    errors: list[tuple[BaseException, str]] = []
    security = AgentSecurity(
        policy_engine=_engine(Outcome.ALLOW),
        plugins=[plugin],
        autoload=False,
        on_error=lambda e, where: errors.append((e, where)),
    )
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed
    assert errors and errors[0][1] == "plugin:raiser:before_check"
    assert result.event.data["plugins"]["errors"]["raiser"]["error"] == "Exploding"


def test_after_execution_error_withholds_the_result() -> None:
    from agent_security.core import SecurityError

    class Broken:
        name = "broken"

        @hookimpl
        def agent_security_after_execution(self, request: Any, result: Any) -> None:
            raise Exploding("no")

    security = AgentSecurity(policy_engine=_engine(Outcome.ALLOW), plugins=[Broken()], autoload=False)
    tool = security.protect("t", lambda x: x * 2, agent_id="a")
    with pytest.raises(SecurityError) as info:
        tool(21)
    assert info.value.codes == ("PLUGIN_ERROR",)
    assert security.get_audit_log()[-1].kind == "execution"
    assert security.get_audit_log()[-1].outcome is Outcome.DENY


def test_a_plugin_failing_to_configure_stops_startup(fake_entry_points: Any) -> None:
    class BadModule:
        @staticmethod
        @hookimpl
        def agent_security_configure(host: Any, settings: Any) -> None:
            raise Exploding("cannot start")

    fake_entry_points(("bad", "agent-security-egress", BadModule))
    with pytest.raises(Exploding):
        AgentSecurity(policy_engine=_engine(Outcome.ALLOW))


def test_a_plugin_that_cannot_be_imported_stops_startup(fake_entry_points: Any) -> None:
    fake_entry_points(("broken", "agent-security-egress", ImportError("missing dependency")))
    with pytest.raises(PluginLoadError, match="cannot load plugin 'broken'"):
        AgentSecurity(policy_engine=_engine(Outcome.ALLOW))


def test_hook_wrappers_are_refused_on_check_hooks() -> None:
    from agent_security.core import PluginContractError

    class Wrapper:
        name = "wrapper"

        @hookimpl(wrapper=True)
        def agent_security_evaluate(self, request: Any, ctx: Any) -> Any:
            yield
            return Decision.allow("FORGED")

    security = AgentSecurity(policy_engine=_engine(Outcome.DENY), autoload=False)
    with pytest.raises(PluginContractError):
        security.register_plugin(Wrapper())
    assert security.get_plugin("wrapper") is None
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed is False
