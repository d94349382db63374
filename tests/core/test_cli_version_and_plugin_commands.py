"""``agent-security --version``, and a plugin command that is missing names the distribution that adds it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agent_security.core import cli as cli_module
from agent_security.core.cli import PLUGIN_COMMANDS, build_cli, installed_distributions
from agent_security.core.config import FAMILY
from agent_security.core.pipeline.hooks import new_plugin_manager
from agent_security.core.plugins import load_entry_points


def _agent_security(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command line in a fresh process (plugins discovered from the installed entry points)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_SECURITY_")}
    clean.update({"AGENT_SECURITY_NO_CONFIG": "1", "XDG_CONFIG_HOME": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "agent_security.core.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )


def test_version_option_prints_every_installed_distribution(tmp_path: Path) -> None:
    expected = [f"{d} {metadata.version(d)}" for d in FAMILY]  # the workspace installs all eight
    proc = _agent_security(tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == expected
    assert installed_distributions() == dict(line.split(" ") for line in expected)
    # the option and the subcommand agree
    assert CliRunner().invoke(build_cli(), ["version"]).output.splitlines() == expected


def test_a_disabled_plugin_s_command_names_its_distribution(tmp_path: Path) -> None:
    proc = _agent_security(tmp_path, "mcp", "scan", "--", "some-server", AGENT_SECURITY_DISABLED_PLUGINS="supply_chain")
    assert proc.returncode == 2
    version = metadata.version("agent-security-supply-chain")
    assert (
        f"No such command 'mcp': it is added by agent-security-supply-chain {version}, which is installed, "
        "but its plugin 'supply_chain' is disabled (AGENT_SECURITY_DISABLED_PLUGINS"
    ) in proc.stderr


def test_with_discovery_off_the_message_says_so(tmp_path: Path) -> None:
    proc = _agent_security(tmp_path, "mcp", AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD="1")
    assert proc.returncode == 2
    assert "added by agent-security-supply-chain" in proc.stderr
    assert "plugin discovery is switched off (AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD" in proc.stderr


def test_the_command_is_there_when_the_plugin_loads(tmp_path: Path) -> None:
    proc = _agent_security(tmp_path, "mcp", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "scan" in proc.stdout


def test_a_distribution_that_is_not_installed_is_named_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(PLUGIN_COMMANDS, "frobnicate", "agent-security-frobnicator")  # no such distribution
    monkeypatch.setenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = CliRunner().invoke(build_cli(), ["frobnicate", "now"])
    assert result.exit_code == 2
    assert (
        "No such command 'frobnicate': it is added by the agent-security-frobnicator distribution, which is "
        "not installed. Install it with: pip install agent-security-frobnicator"
    ) in result.output


def test_unknown_commands_keep_click_s_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = CliRunner().invoke(build_cli(), ["frobnicate"])
    assert result.exit_code == 2 and "No such command 'frobnicate'." in result.output


def test_the_table_names_every_plugin_command_and_its_distribution() -> None:
    pm = new_plugin_manager()
    records = load_entry_points(pm)
    core = set(cli_module.cli.commands) - set(PLUGIN_COMMANDS)
    added: dict[str, str] = {}
    for rec in records:
        plugin = pm.get_plugin(rec.name)
        hook = getattr(plugin, "agent_security_cli", None)
        if hook is None:
            continue
        group = click.Group("probe")
        # the core groups that plugins add to (``"audit export"``): a fresh group each, to see what is added
        core_groups = {n: click.Group(n) for n in {key.split()[0] for key in PLUGIN_COMMANDS if " " in key}}
        for name, core_group in core_groups.items():
            group.add_command(core_group, name)
        hook(cli=group)
        for name, command in group.commands.items():
            if core_groups.get(name) is command:  # a core group: what the plugin added to it
                added.update({f"{name} {sub}": rec.distribution for sub in core_groups[name].commands})
                continue
            assert name not in core, f"{rec.distribution} adds {name!r}, a core command"
            added[name] = rec.distribution
    assert added == {n: d for n, d in PLUGIN_COMMANDS.items() if d in installed_distributions()}


def test_a_missing_subcommand_of_a_core_group_names_its_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PLUGIN_COMMANDS, "audit frobnicate", "agent-security-frobnicator")
    monkeypatch.setenv("AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = CliRunner().invoke(build_cli(), ["audit", "frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'audit frobnicate': it is added by the agent-security-frobnicator distribution" in (
        result.output
    )
    assert CliRunner().invoke(build_cli(), ["audit", "verify", "--help"]).exit_code == 0
