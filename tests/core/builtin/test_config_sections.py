"""Built-in plugins configured from the config file alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, ConfigFileError, Decision
from agent_security.core.testing import StaticEngine


def _engine() -> StaticEngine:
    return StaticEngine(lambda r: Decision.allow("OK"))


def test_sections_install_the_builtins(tmp_path: Path) -> None:
    state = tmp_path / "ks.json"
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(f"""
[kill_switch]
state_file = "{state}"
missing_ok = true

[rate_limiter]
max_per_minute_per_tool = 2

[session_context]
limits = {{ pay = 1 }}

[output_validator]
sensitive_patterns = ['\\d{{3}}-\\d{{2}}-\\d{{4}}']
action = "redact"
""")
    security = AgentSecurity(policy_engine=_engine(), config_path=cfg, autoload=False)
    assert {"kill_switch", "rate_limiter", "session_context", "output_validator"} <= set(security.list_plugins())
    results = [security.check_tool_call(tool_name="t", agent_id="a").allowed for _ in range(3)]
    assert results == [True, True, False]
    assert security.check_tool_call(tool_name="pay", agent_id="b", session_id="s").allowed
    assert not security.check_tool_call(tool_name="pay", agent_id="b", session_id="s").allowed
    security.get_plugin("kill_switch").kill("c", "stop")
    assert json.loads(state.read_text())["killed_agents"] == {"c": "stop"}
    assert not security.check_tool_call(tool_name="x", agent_id="c").allowed
    lookup = security.protect("lookup", lambda: "ssn 123-45-6789", agent_id="d")
    assert "123-45-6789" not in lookup()


def test_kill_switch_state_survives_a_restart_and_a_missing_file_fails_closed(tmp_path: Path) -> None:
    state = tmp_path / "ks.json"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[kill_switch]\nstate_file = "{state}"\n')
    security = AgentSecurity(policy_engine=_engine(), config_path=cfg, autoload=False)
    # no file and missing_ok = false: every agent is stopped until an operator looks
    assert not security.check_tool_call(tool_name="t", agent_id="a").allowed
    security.get_plugin("kill_switch").revive_all()
    security.get_plugin("kill_switch").kill("rogue", "bad")
    restarted = AgentSecurity(policy_engine=_engine(), config_path=cfg, autoload=False)
    assert not restarted.check_tool_call(tool_name="t", agent_id="rogue").allowed
    assert restarted.check_tool_call(tool_name="t", agent_id="a").allowed


def test_builtin_section_errors_name_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[rate_limiter]\nmax_per_minute = -1\n")
    with pytest.raises(ConfigFileError) as info:
        AgentSecurity(policy_engine=_engine(), config_path=cfg, autoload=False)
    assert info.value.section == "rate_limiter" and info.value.field == "max_per_minute"
