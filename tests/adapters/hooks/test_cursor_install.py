"""``install`` / ``doctor`` for Cursor: hooks.json written with failClosed, idempotent, keeping the user's
hooks, refusing an invalid file; doctor runs the configured command and proves it blocks."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from agent_security.adapters.hooks import cursor_install
from agent_security.adapters.hooks._install_common import InstallError, default_command


def fake_hook(tmp_path: Path, answer: str) -> list[str]:
    """A command named like ours that answers ``answer`` whatever it is asked: a hook that does not block."""
    script = tmp_path / "bin" / "agent-security"
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script), "hook", "cursor"]


def test_install_writes_every_event_fail_closed(tmp_path: Path, setup: Any) -> None:
    path = cursor_install.install("project", root=tmp_path, command=setup.runner("cursor"))
    assert path == tmp_path / ".cursor" / "hooks.json"
    data = json.loads(path.read_text())
    assert data["version"] == 1
    for event in cursor_install.EVENTS:
        (entry,) = data["hooks"][event]
        assert entry["failClosed"] is True and entry["timeout"] == cursor_install.TIMEOUT_S
        assert entry["command"].endswith(f"--config {setup.config} hook cursor")


def test_install_is_idempotent_and_keeps_other_hooks(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "hooks.json"
    path.parent.mkdir()
    theirs = {
        "version": 1,
        "team_note": "keep me",
        "hooks": {
            "afterFileEdit": [{"command": "./hooks/format.sh"}],
            "stop": [{"command": "./hooks/notify.sh", "loop_limit": 3}],
            "beforeShellExecution": [{"command": "/old/venv/bin/agent-security hook cursor", "failClosed": False}],
        },
    }
    path.write_text(json.dumps(theirs))
    command = ["/opt/as/bin/agent-security", "hook", "cursor"]
    cursor_install.install("project", root=tmp_path, command=command)
    first = path.read_text()
    data = json.loads(first)
    assert data["team_note"] == "keep me"
    assert data["hooks"]["stop"] == [{"command": "./hooks/notify.sh", "loop_limit": 3}]
    assert data["hooks"]["afterFileEdit"][0] == {"command": "./hooks/format.sh"}
    assert len(data["hooks"]["afterFileEdit"]) == 2
    (ours,) = data["hooks"]["beforeShellExecution"]  # the old entry of ours was replaced, not duplicated
    assert ours == {"command": "/opt/as/bin/agent-security hook cursor", "timeout": 30, "failClosed": True}
    mtime = path.stat().st_mtime_ns
    cursor_install.install("project", root=tmp_path, command=command)
    assert path.read_text() == first and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("content", ["{ not json", "[]", '{"hooks": []}', '{"hooks": {"preToolUse": {}}}'])
def test_install_refuses_a_file_it_cannot_read_as_hooks(tmp_path: Path, content: str) -> None:
    path = tmp_path / ".cursor" / "hooks.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(InstallError):
        cursor_install.install("project", root=tmp_path, command=["agent-security", "hook", "cursor"])
    assert path.read_text() == content
    assert [p.name for p in path.parent.iterdir()] == ["hooks.json"]  # no temporary file left


def test_scopes_and_the_default_command(tmp_path: Path) -> None:
    user = cursor_install.install("user", root=tmp_path)
    assert user == tmp_path / ".cursor" / "hooks.json"
    command = json.loads(user.read_text())["hooks"]["preToolUse"][0]["command"]
    exe = default_command("cursor")[0]
    assert Path(exe).is_absolute() and Path(exe).is_file() and command.endswith(" hook cursor")
    enterprise = cursor_install.install(
        "enterprise", root=tmp_path / "fsroot", command=["agent-security", "hook", "cursor"]
    )
    assert enterprise.is_relative_to(tmp_path / "fsroot") and enterprise.name == "hooks.json"
    with pytest.raises(InstallError):
        cursor_install.install("galaxy", root=tmp_path)


def test_doctor_proves_the_installed_hook_blocks(tmp_path: Path, setup: Any) -> None:
    cursor_install.install("project", root=tmp_path, command=setup.runner("cursor"))
    ok, lines = cursor_install.doctor(root=tmp_path)
    assert ok, lines
    assert any("preToolUse canary" in line and "blocked" in line for line in lines)
    assert any("malformed input blocked" in line for line in lines)


def test_doctor_fails_a_hook_that_does_not_block(tmp_path: Path) -> None:
    cursor_install.install("project", root=tmp_path, command=fake_hook(tmp_path, '{"permission":"allow"}'))
    ok, lines = cursor_install.doctor(root=tmp_path)
    assert not ok
    assert any(line.startswith("FAIL preToolUse canary") for line in lines)
    assert any(line.startswith("FAIL malformed input") for line in lines)


def test_doctor_fails_when_not_fail_closed_or_not_configured(tmp_path: Path, setup: Any) -> None:
    ok, lines = cursor_install.doctor(root=tmp_path)
    assert not ok and lines[0].startswith("FAIL no agent-security hook")
    path = cursor_install.install("project", root=tmp_path, command=setup.runner("cursor"))
    data = json.loads(path.read_text())
    data["hooks"]["beforeMCPExecution"][0]["failClosed"] = False
    del data["hooks"]["beforeReadFile"]
    path.write_text(json.dumps(data))
    ok, lines = cursor_install.doctor(root=tmp_path)
    assert not ok
    assert any(line.startswith("FAIL beforeMCPExecution: failClosed") for line in lines)
    assert any(line.startswith("FAIL beforeReadFile: no agent-security entry") for line in lines)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_install_keeps_the_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / ".cursor" / "hooks.json"
    path.parent.mkdir()
    path.write_text('{"version": 1, "hooks": {}}')
    path.chmod(0o600)
    cursor_install.install("project", root=tmp_path, command=["agent-security", "hook", "cursor"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
