"""Hook implementations are found by name (``agent_security_<hook>``), as pytest finds ``pytest_<hook>``.
A marked implementation under another name (a pluggy ``specname=`` alias) is refused loudly: left
unregistered, a security hook would never run and its plugin would look as if it allowed every call."""

from __future__ import annotations

import types
from typing import Any

import pytest

from agent_security.core import AgentSecurity, Decision, hookimpl
from agent_security.core.errors import PluginContractError
from agent_security.core.testing import StaticEngine

ALLOW = StaticEngine(lambda r: Decision.allow("OK"))


class Aliased:
    @hookimpl(specname="agent_security_evaluate")
    def deny_everything(self, request: Any, ctx: Any) -> Decision:
        return Decision.deny("NO", "no")


class Named:
    @hookimpl
    def agent_security_evaluate(self, request: Any, ctx: Any) -> Decision:
        return Decision.deny("NO", "no")

    @property
    def agent_security_exploding(self) -> None:  # a property is never run to find hooks
        raise AssertionError("read")

    def helper(self) -> None: ...


def test_an_aliased_implementation_is_refused_not_ignored() -> None:
    with pytest.raises(PluginContractError, match="deny_everything"):
        AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[Aliased()])
    security = AgentSecurity(policy_engine=ALLOW, autoload=False)
    with pytest.raises(PluginContractError):
        security.register_plugin(Aliased())
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed  # nothing half-registered


def test_an_aliased_implementation_in_a_module_plugin_is_refused() -> None:
    module = types.ModuleType("aliased_plugin")

    @hookimpl(specname="agent_security_evaluate")
    def deny(request: Any, ctx: Any) -> Decision:
        return Decision.deny("NO", "no")

    module.deny = deny  # type: ignore[attr-defined]
    security = AgentSecurity(policy_engine=ALLOW, autoload=False)
    with pytest.raises(PluginContractError):
        security.register_plugin(module)


def test_named_implementations_register_and_properties_are_not_run() -> None:
    security = AgentSecurity(policy_engine=ALLOW, autoload=False, plugins=[Named()])
    assert not security.check_tool_call(tool_name="t", agent_id="a").allowed
