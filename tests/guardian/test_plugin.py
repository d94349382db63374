"""The distribution's plugin: discovered, configured from ``[guardian]`` alone, and its demo command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_security.core import AgentSecurity
from agent_security.core.cli import build_cli
from agent_security.core.errors import ConfigFileError
from agent_security.core.testing import FakeClock
from agent_security.guardian import GuardianAgent, GuardianConfig

POLICY = """{"version": "1.0.0", "generated_at": "2026-01-01T00:00:00.000Z", "expires_at": "2099-01-01T00:00:00.000Z",
 "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
 "defaults": {"outcome": "DENY"}}"""


def _security(tmp_path: Path, section: str) -> AgentSecurity:
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(section)
    return AgentSecurity(config_path=cfg, policy_json=POLICY, clock=FakeClock())


def test_discovered_and_described() -> None:
    security = AgentSecurity(policy_json=POLICY)
    info = next(i for i in security.plugin_infos if i.name == "guardian")
    assert info.distribution == "agent-security-guardian" and info.version
    assert info.config_section == "guardian" and info.config_model is GuardianConfig
    assert "Not installed" in info.unconfigured
    assert security.get_plugin("guardian-agent") is None  # opt-in: no section, no guardian


def test_configured_from_the_section_alone_with_a_blueprint(tmp_path: Path) -> None:
    security = _security(
        tmp_path, '[guardian]\nblueprint = "finance"\nfrequency_threshold = 2\ntimezone = "Europe/London"\n'
    )
    guardian = security.get_plugin("guardian-agent")
    assert isinstance(guardian, GuardianAgent)
    cfg = guardian.config
    assert cfg.name == "Finance Guardian" and cfg.mode == "block" and cfg.frequency_threshold == 2
    assert cfg.auto_kill_threshold == 3 and cfg.timezone == "Europe/London"
    assert security.get_plugin("kill_switch") is not None  # block mode needs one: installed
    for _ in range(8):
        security.check_tool_call(tool_name="query_customer_db", agent_id="bot", environment="prod")
    # 12:00 UTC is 13:00 in London, inside 8-18; the frequency spike alone is one incident of three
    assert [i.type.value for i in guardian.incidents()] == ["frequency_spike"]


def test_the_section_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as err:
        _security(tmp_path, "[guardian]\nfrequncy_threshold = 3\n")
    assert err.value.section == "guardian" and err.value.field == "frequncy_threshold"
    with pytest.raises(ConfigFileError):
        _security(tmp_path, '[guardian]\nmode = "kill-everyone"\n')
    with pytest.raises(ConfigFileError):
        _security(tmp_path, '[guardian]\nblueprint = "marketing"\n')


def test_disabled_section_registers_nothing(tmp_path: Path) -> None:
    assert _security(tmp_path, "[guardian]\nenabled = false\n").get_plugin("guardian-agent") is None


def test_monitor_section_adds_no_kill_switch(tmp_path: Path) -> None:
    security = _security(tmp_path, '[guardian]\nmode = "monitor"\n')
    assert security.get_plugin("guardian-agent") is not None and security.get_plugin("kill_switch") is None


def test_an_application_kill_switch_replaces_the_installed_one(tmp_path: Path) -> None:
    from agent_security.core.builtin import kill_switch

    cfg = tmp_path / "agent-security.toml"
    cfg.write_text('[guardian]\nblueprint = "finance"\n')
    mine = kill_switch()
    guardian = GuardianAgent({"mode": "monitor"})
    security = AgentSecurity(config_path=cfg, policy_json=POLICY, plugins=[mine, guardian])
    assert security.get_plugin("kill_switch") is mine
    assert security.get_plugin("guardian-agent") is guardian


def test_demo_guardian_command() -> None:
    result = CliRunner().invoke(build_cli(), ["demo", "guardian"])
    assert result.exit_code == 0, result.output
    assert "all outcomes as expected" in result.output
    assert "DENY AGENT_KILL_SWITCH" in result.output


def test_demo_rows_are_reusable() -> None:
    from agent_security.guardian.demo import guardian_rows

    rows = guardian_rows()
    assert len(rows) >= 10 and all(r.ok for r in rows)
    assert all(r.scenario and r.ours and r.original for r in rows)


def test_with_a_kill_switch_section_the_configured_one_is_used(tmp_path: Path) -> None:
    security = _security(tmp_path, '[kill_switch]\n\n[guardian]\nblueprint = "finance"\n')
    assert security.get_plugin("kill_switch") is not None and security.get_plugin("guardian-agent") is not None


def test_the_example_runs() -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "examples" / "guardian" / "run.py"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "rogue-bot    query_customer_db  DENY  AGENT_KILL_SWITCH" in proc.stdout
    assert "auto_kill" in proc.stdout and "finance-bot  query_customer_db  ALLOW" in proc.stdout


def test_guardian_command_status_revive_incidents(tmp_path: Path) -> None:
    """The operator's commands, on the store and trail a hook process wrote (a real SQLite file)."""
    import json as _json

    trail = tmp_path / "audit.jsonl"
    store = tmp_path / "state.db"
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(
        f'[core]\nstore = "sqlite:///{store}"\n[core.audit]\njsonl_path = "{trail}"\n'
        '[guardian]\nmode = "block"\nfrequency_threshold = 2\nauto_kill_threshold = 1\nfirst_use = false\n'
    )
    from agent_security.core.store import open_store

    clock = FakeClock()
    security = AgentSecurity(
        config_path=cfg, policy_json=POLICY, store=open_store(f"sqlite:///{store}", clock=clock), clock=clock
    )
    for _ in range(4):
        security.check_tool_call(tool_name="query", agent_id="rogue-bot")
    security.shutdown()
    cli, runner = build_cli(), CliRunner()
    shown = runner.invoke(cli, ["--config", str(cfg), "guardian", "status", "Rogue-Bot"])
    assert shown.exit_code == 0, shown.output
    status = _json.loads(shown.output)
    assert status["killed"] is True and status["incidents_counted"] == 1 and status["known_tools"] == ["query"]
    listed = runner.invoke(cli, ["guardian", "incidents", "--trail", str(trail), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [_json.loads(line) for line in listed.output.splitlines()]
    assert [r["type"] for r in rows] == ["frequency_spike", "auto_kill"] and rows[0]["agent_id"] == "rogue-bot"
    revived = runner.invoke(cli, ["--config", str(cfg), "guardian", "revive", "rogue-bot"])
    assert revived.exit_code == 0, revived.output
    status = _json.loads(runner.invoke(cli, ["--config", str(cfg), "guardian", "status", "rogue-bot"]).output)
    assert status["killed"] is False and status["incidents_counted"] == 0
    kinds = [_json.loads(line)["kind"] for line in trail.read_text().splitlines()]
    assert "kill_switch.revive" in kinds  # the revival is audited


def test_guardian_command_without_a_section(tmp_path: Path) -> None:
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(f'[core]\nstore = "sqlite:///{tmp_path / "s.db"}"\n')
    result = CliRunner().invoke(build_cli(), ["--config", str(cfg), "guardian", "revive", "x"])
    assert result.exit_code == 1 and "no guardian is configured" in result.output
