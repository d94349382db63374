"""What the three installers share: telling an entry of ours, the files they write, the CLI around them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from agent_security.adapters.hooks import claude_code_install, copilot_install, cursor_install
from agent_security.adapters.hooks._install_common import InstallError, is_ours, read_config, runs_hook
from tests.adapters.hooks.conftest import SCRIPT


def test_an_entry_of_ours_whatever_the_path_and_options() -> None:
    assert is_ours("/opt/venv/bin/agent-security hook cursor", "cursor")
    assert is_ours("/opt/venv/bin/agent-security --config '/a b/c.toml' hook cursor", "cursor")
    assert is_ours("env X=1 agent-security hook copilot", "copilot")
    assert not is_ours("/opt/venv/bin/agent-security hook cursor", "copilot")
    assert not is_ours("./hooks/format.sh hook cursor", "cursor")
    assert not is_ours(["agent-security", "hook", "cursor"], "cursor")
    assert runs_hook(["C:\\as\\agent-security.exe", "--config", "x", "hook", "claude-code"], "claude-code")
    assert claude_code_install.is_our_hook({"command": "/x/agent-security", "args": ["hook", "claude-code"]})


def test_a_blank_file_is_an_empty_one_and_an_invalid_one_is_refused(tmp_path: Path) -> None:
    blank = tmp_path / "blank.json"
    blank.write_text("\n")
    assert read_config(blank) == {}
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(InstallError, match="not changed"):
        read_config(bad)
    assert issubclass(InstallError, ValueError)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.parametrize("module", [claude_code_install, cursor_install, copilot_install])
def test_a_new_file_is_readable_by_the_host(tmp_path: Path, module: object) -> None:
    path = module.install("user", root=tmp_path, command=["/x/agent-security", "hook", "h"])  # type: ignore[attr-defined]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize("host", ["cursor", "copilot", "claude-code"])
def test_cli_install_with_config_twice_keeps_one_entry_per_event(tmp_path: Path, host: str) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text("")
    argv = [str(SCRIPT), "--config", str(config), "install", host, "--user", "--root", str(tmp_path)]
    for _ in range(2):
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
    text = next(p for p in tmp_path.rglob("*.json")).read_text()
    assert str(config) in text
    hooks = json.loads(text)["hooks"]
    assert all(len(entries) == 1 for entries in hooks.values())


def test_cli_install_refuses_an_invalid_file_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "hooks.json"
    path.parent.mkdir()
    path.write_text("{")
    done = subprocess.run(
        [str(SCRIPT), "install", "cursor", "--user", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1 and "not valid JSON" in done.stderr and "Traceback" not in done.stderr
    assert path.read_text() == "{"
