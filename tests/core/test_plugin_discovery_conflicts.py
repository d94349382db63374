"""Entry points that conflict (one plugin name from two targets, one config section claimed twice) stop
startup instead of one silently winning.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
    hookimpl,
)
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))


# ------------------------------------------------------------------------------------------------
# F13 (low): two entry points with the same name from "the same distribution" (same metadata name seen
# twice on sys.path) were treated as one install seen twice: whichever target sorted first loaded, the
# other was skipped silently. A shadow copy with a different target won by choosing its module name.
# ------------------------------------------------------------------------------------------------


class _Ep:
    group = "agent_security"

    def __init__(self, name: str, dist: str, value: str, target: object) -> None:
        class _Dist:
            version = "1.0"

        self.name, self.value, self._target = name, value, target
        self.dist = _Dist()
        self.dist.name = dist  # type: ignore[attr-defined]

    def load(self) -> object:
        return self._target


def test_same_distribution_name_with_another_target_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core import PluginLoadError, plugins
    from agent_security.core.pipeline.hooks import new_plugin_manager

    class Genuine:
        pass

    class Shadow:
        pass

    eps = [
        _Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine),
        _Ep("egress", "agent-security-egress", "a_shadow.plugin", Shadow),
    ]
    monkeypatch.setattr(plugins, "_group_entry_points", lambda: list(eps))
    with pytest.raises(PluginLoadError):
        plugins.load_entry_points(new_plugin_manager())


def test_same_install_seen_twice_is_still_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core import plugins
    from agent_security.core.pipeline.hooks import new_plugin_manager

    class Genuine:
        pass

    eps = [
        _Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine),
        _Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine),
    ]
    monkeypatch.setattr(plugins, "_group_entry_points", lambda: list(eps))
    records = plugins.load_entry_points(new_plugin_manager())
    assert [r.status for r in records] == ["loaded", "disabled"]


# ------------------------------------------------------------------------------------------------
# F20 (low): two plugins declaring the same config section were not an error: the last one's model
# silently replaced the first's, so the first plugin received a settings object of another plugin's
# model (and an allow-listed extension could re-declare "egress" with a permissive model).
# ------------------------------------------------------------------------------------------------


def _info_module(name: str, section: str, model: Any) -> Any:
    from agent_security.core import PluginInfo

    class Module:
        @staticmethod
        @hookimpl
        def agent_security_plugin_info() -> Any:
            return PluginInfo(name=name, description=name, config_section=section, config_model=model)

    return Module


def test_two_plugins_claiming_one_config_section_stop_startup(fake_entry_points: Any) -> None:
    from agent_security.core import ConfigurationError, SectionModel

    class Strict(SectionModel):
        enabled: bool = True

    class Lax(SectionModel):
        enabled: bool = False

    fake_entry_points(
        ("guard", "agent-security-egress", _info_module("guard", "guard", Strict)),
        ("other", "agent-security-guardian", _info_module("other", "guard", Lax)),
    )
    with pytest.raises(ConfigurationError, match="guard"):
        AgentSecurity(policy_engine=ALLOW, config={"guard": {"enabled": True}})
