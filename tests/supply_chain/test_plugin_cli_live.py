"""Plugin entry point, configuration, and the `mcp` CLI against a real stdio MCP server (the fixture)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.core import Outcome, Settings
from agent_security.core.config import ConfigSection
from agent_security.core.errors import ConfigFileError
from agent_security.supply_chain import McpLock, McpScanner
from agent_security.supply_chain import plugin as sc_plugin
from agent_security.supply_chain.live import McpLiveError, fetch_server

ServerCommand = Callable[[str], list[str]]


# --- plugin info and configuration -------------------------------------------------------------------


def test_plugin_info() -> None:
    info = sc_plugin.agent_security_plugin_info()
    assert info.name == "supply_chain" and info.config_section == "supply_chain"
    assert info.config_model is sc_plugin.SupplyChainConfig
    assert "approval" in info.unconfigured


def test_entry_point_is_declared() -> None:
    from importlib import metadata

    eps = [ep for ep in metadata.entry_points(group="agent_security") if ep.name == "supply_chain"]
    assert eps and eps[0].value == "agent_security.supply_chain.plugin"


def _settings(raw: dict[str, Any]) -> Settings:
    s = Settings(raw={"supply_chain": raw})
    s.validate_sections({"supply_chain": ConfigSection("supply_chain", sc_plugin.SupplyChainConfig, "supply_chain")})
    return s


class FakeSecurity:
    def __init__(self) -> None:
        self.plugins: list[Any] = []

    def register_plugin(self, obj: Any) -> None:
        self.plugins.append(obj)


def test_configure_without_section_registers_conservative_guard(make_request: Any, ctx: Any) -> None:
    sec = FakeSecurity()
    sc_plugin.agent_security_configure(sec, Settings())
    (guard,) = sec.plugins
    assert guard.governor is not None and guard.lock is None
    r = guard.agent_security_before_check(make_request("bash", {"command": "curl http://x"}), ctx)
    assert r.decision.codes == ("COMMAND_BLOCKED",)
    r = guard.agent_security_before_check(make_request("bash", {"command": "terraform apply"}), ctx)
    assert r.decision.outcome is Outcome.REQUIRE_APPROVAL
    assert guard.agent_security_before_check(make_request("bash", {"command": "git status"}), ctx) is None


def test_configure_with_section(tmp_path: Path, make_request: Any, ctx: Any) -> None:
    lock = McpLock()
    lock.pin("fixture", [{"name": "add", "description": "Adds"}])
    lock.save(tmp_path / "lock.json")
    sec = FakeSecurity()
    settings = _settings(
        {
            "command_rules": [{"pattern": "make *", "action": "allow", "reason": "builds"}],
            "lock_file": str(tmp_path / "lock.json"),
            "provenance": {"query_db": {"manifest_hash": "sha256:" + "a" * 64}},
        }
    )
    sc_plugin.agent_security_configure(sec, settings)
    (guard,) = sec.plugins
    assert guard.agent_security_before_check(make_request("bash", {"command": "make all"}), ctx) is None
    r = guard.agent_security_before_check(make_request("bash", {"command": "ls"}), ctx)
    assert r.decision.reasons[0].message == "Default policy: block"
    assert guard.agent_security_before_check(make_request("mcp__fixture__add", {}), ctx) is None
    r = guard.agent_security_before_check(make_request("mcp__fixture__sub", {}), ctx)
    assert r.decision.codes == ("UNVERIFIED_MCP_TOOL",)
    r = guard.agent_security_before_check(make_request("query_db", {}), ctx)
    assert r.decision.codes == ("PROVENANCE_FAILED",)


def test_relative_lock_path_is_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cfg").mkdir()
    lock = McpLock()
    lock.pin("fixture", [{"name": "add"}])
    lock.save(tmp_path / "cfg" / "mcp.lock.json")
    settings = _settings({"lock_file": "mcp.lock.json"})
    settings.path = tmp_path / "cfg" / "agent-security.toml"
    monkeypatch.chdir(tmp_path)  # not where the lock is
    sec = FakeSecurity()
    sc_plugin.agent_security_configure(sec, settings)
    assert sec.plugins[0].lock.tool_entry("fixture", "add") is not None


def test_configure_disabled_and_bad_sections(tmp_path: Path) -> None:
    sec = FakeSecurity()
    sc_plugin.agent_security_configure(sec, _settings({"enabled": False}))
    assert sec.plugins == []
    with pytest.raises(ConfigFileError):
        _settings({"command_rules": [{"pattern": "x", "action": "sometimes"}]})
    with pytest.raises(ConfigFileError):
        _settings({"no_such_key": 1})
    with pytest.raises(ConfigFileError):
        _settings({"provenance": {"t": {"manifest_hash": "md5:1"}}})
    # a lock file that cannot be read makes configuration fail (fail closed)
    with pytest.raises(ValueError, match="cannot read"):
        sc_plugin.agent_security_configure(FakeSecurity(), _settings({"lock_file": str(tmp_path / "missing")}))


def test_cli_hook_adds_mcp_group() -> None:
    root = click.Group("agent-security")
    sc_plugin.agent_security_cli(root)
    # agent-security-adapters adds `proxy` to this same group object (once its CLI hook has run)
    assert {"scan", "pin", "verify"} <= set(root.commands["mcp"].commands)  # type: ignore[attr-defined]


# --- static scan from a file ------------------------------------------------------------------------


def test_cli_scan_file(tmp_path: Path) -> None:
    f = tmp_path / "server.json"
    f.write_text(json.dumps({"name": "s", "tools": [{"name": "add", "description": "Adds <!-- x -->"}]}))
    res = CliRunner().invoke(sc_plugin.mcp_group, ["scan", "--file", str(f), "--json"])
    assert res.exit_code == 1, res.output  # high risk fails by default
    out = json.loads(res.output)
    assert any(x["rule"] == "HTML_COMMENT" for x in out["findings"])
    res = CliRunner().invoke(sc_plugin.mcp_group, ["scan", "--file", str(f), "--fail-on", "never"])
    assert res.exit_code == 0 and "HTML comment" in res.output


def test_cli_scan_exit_status_tells_risky_from_could_not_scan(tmp_path: Path) -> None:
    risky = tmp_path / "risky.json"
    risky.write_text(json.dumps({"name": "s", "tools": [{"name": "run_shell", "description": "Runs a command"}]}))
    benign = tmp_path / "benign.json"
    benign.write_text(json.dumps({"name": "s", "tools": [{"name": "get_weather", "description": "Weather"}]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"name": "s", "tools": "not a list"}))
    runner = CliRunner()
    assert runner.invoke(sc_plugin.mcp_group, ["scan", "--file", str(risky)]).exit_code == 1
    assert runner.invoke(sc_plugin.mcp_group, ["scan", "--file", str(benign)]).exit_code == 0
    for path in (broken, wrong):
        res = runner.invoke(sc_plugin.mcp_group, ["scan", "--file", str(path)])
        assert res.exit_code == 3, res.output
    res = runner.invoke(sc_plugin.mcp_group, ["scan", "--timeout", "5", "--", "/nonexistent/mcp-server"])
    assert res.exit_code == 3, res.output


def test_cli_scan_without_command_is_a_usage_error() -> None:
    res = CliRunner().invoke(sc_plugin.mcp_group, ["scan"])
    assert res.exit_code == 2 and "after '--'" in res.output


def test_missing_sdk_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "mcp" or name.startswith("mcp."):
            raise ImportError("No module named 'mcp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    res = CliRunner().invoke(sc_plugin.mcp_group, ["scan", "--", "true"])
    assert res.exit_code == 3  # could not scan: never the status of a risky server
    assert "pip install 'agent-security-supply-chain[mcp]'" in res.output


# --- live server ------------------------------------------------------------------------------------


def test_live_fetch_lists_tools_in_mcp_shape(server_command: ServerCommand) -> None:
    live = fetch_server(server_command("clean"), timeout_s=30)
    assert live.name == "fixture-weather"
    names = [t["name"] for t in live.tools]
    assert names == ["weather", "add"]
    weather = live.tools[0]
    assert "inputSchema" in weather and "city" in weather["inputSchema"]["properties"]
    assert weather["annotations"]["readOnlyHint"] is True
    report = McpScanner().scan(live.definition())
    assert not report.by_kind("tool_poisoning")


def test_live_scan_finds_poisoning(server_command: ServerCommand) -> None:
    res = CliRunner().invoke(sc_plugin.mcp_group, ["scan", "--json", "--", *server_command("poisoned")])
    assert res.exit_code == 1, res.output
    report = json.loads(res.output)
    kinds = {f["kind"] for f in report["findings"]}
    assert {"tool_poisoning", "sensitive_file_access", "data_exfiltration"} <= kinds
    assert report["risk_level"] == "critical"


def test_live_pin_then_verify_detects_drift(server_command: ServerCommand, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "k.pub").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    lock = tmp_path / "mcp.lock.json"
    runner = CliRunner()
    res = runner.invoke(
        sc_plugin.mcp_group,
        ["pin", "--lock", str(lock), "--sign-key", str(tmp_path / "k.pem"), "--", *server_command("clean")],
    )
    assert res.exit_code == 0, res.output
    assert "pinned 2 tools" in res.output and "(signed)" in res.output
    assert set(McpLock.load(lock).servers["fixture-weather"]["tools"]) == {"weather", "add"}

    res = runner.invoke(
        sc_plugin.mcp_group,
        ["verify", "--lock", str(lock), "--public-key", str(tmp_path / "k.pub"), "--", *server_command("clean")],
    )
    assert res.exit_code == 0, res.output
    assert "matches the lock file" in res.output

    # same server, the description of `weather` changed (rug pull); the env var drives the variant
    env_cmd = server_command("clean")[:2]
    res = runner.invoke(
        sc_plugin.mcp_group,
        ["verify", "--lock", str(lock), "--json", "--", *env_cmd],
        env={**os.environ, "FIXTURE_VARIANT": "poisoned"},
    )
    assert res.exit_code == 1, res.output
    drift = json.loads(res.output)
    assert not drift["ok"]
    assert [(c["kind"], c["tool"], c["fields"]) for c in drift["changes"]] == [("changed", "weather", ["description"])]

    res = runner.invoke(
        sc_plugin.mcp_group, ["verify", "--lock", str(lock), "--json", "--", *server_command("renamed")]
    )
    assert res.exit_code == 1
    changes = json.loads(res.output)["changes"]
    assert [(c["kind"], c["tool"], c["previous_name"]) for c in changes] == [("renamed", "sum_numbers", "add")]


def test_live_limits(server_command: ServerCommand) -> None:
    with pytest.raises(McpLiveError, match="larger than"):
        fetch_server(server_command("flood"), timeout_s=30, max_message_bytes=64_000)
    import sys

    with pytest.raises(McpLiveError, match="did not answer"):
        fetch_server([sys.executable, "-c", "import sys; sys.stdin.read()"], timeout_s=0.5)
    with pytest.raises(McpLiveError, match="cannot start"):
        fetch_server(["/nonexistent/mcp-server"], timeout_s=1)
