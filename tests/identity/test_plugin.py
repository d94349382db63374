"""agent-security-identity 0.1.0: discovered, described, and its config section validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, ConfigFileError, Decision
from agent_security.core.testing import StaticEngine


def _engine() -> StaticEngine:
    return StaticEngine(lambda r: Decision.allow("OK"))


def test_discovered_with_its_distribution_and_section() -> None:
    security = AgentSecurity(policy_engine=_engine())
    info = next(i for i in security.plugin_infos if i.name == "identity")
    assert info.distribution == "agent-security-identity" and info.version == "0.1.0"
    assert info.config_section == "identity" and info.unconfigured


def test_section_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[identity]\n")
    assert AgentSecurity(policy_engine=_engine(), config_path=cfg).settings.section("identity") is not None
    cfg.write_text("[identity]\nunknown_setting = 1\n")
    with pytest.raises(ConfigFileError) as info:
        AgentSecurity(policy_engine=_engine(), config_path=cfg)
    assert info.value.section == "identity" and info.value.field == "unknown_setting"


def test_installing_it_changes_no_decision() -> None:
    deny = StaticEngine(lambda r: Decision.deny("NO", "no"))
    with_plugin = AgentSecurity(policy_engine=deny)
    assert with_plugin.get_plugin("identity") is not None
    assert with_plugin.check_tool_call(tool_name="t", agent_id="a").final_decision.codes == ("NO",)
