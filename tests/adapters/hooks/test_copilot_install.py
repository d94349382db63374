"""``install`` / ``doctor`` for the GitHub Copilot CLI (.github/hooks/agent-security.json)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from agent_security.adapters.hooks import copilot_install
from agent_security.adapters.hooks._install_common import InstallError


def test_install_writes_the_documented_shape_idempotently(tmp_path: Path, setup: Any) -> None:
    path = copilot_install.install("project", root=tmp_path, command=setup.runner("copilot"))
    assert path == tmp_path / ".github" / "hooks" / "agent-security.json"
    data = json.loads(path.read_text())
    assert data["version"] == 1
    (entry,) = data["hooks"]["preToolUse"]
    assert entry["type"] == "command" and entry["timeoutSec"] == copilot_install.TIMEOUT_S
    assert entry["bash"].endswith(f"--config {setup.config} hook copilot")
    assert entry["powershell"].startswith("& '")
    first = path.read_text()
    copilot_install.install("project", root=tmp_path, command=setup.runner("copilot"))
    assert path.read_text() == first


def test_install_keeps_other_entries_and_replaces_its_own(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "hooks" / "agent-security.json"
    path.parent.mkdir(parents=True)
    theirs = {"type": "command", "bash": "./scripts/guard.sh", "timeoutSec": 5}
    old = {"type": "command", "bash": "/old/bin/agent-security hook copilot", "timeoutSec": 1}
    path.write_text(json.dumps({"version": 1, "hooks": {"preToolUse": [theirs, old], "sessionEnd": [theirs]}}))
    copilot_install.install("project", root=tmp_path, command=["/new/bin/agent-security", "hook", "copilot"])
    data = json.loads(path.read_text())
    assert data["hooks"]["sessionEnd"] == [theirs]
    assert data["hooks"]["preToolUse"][0] == theirs
    assert [e["bash"] for e in data["hooks"]["preToolUse"]] == [
        "./scripts/guard.sh",
        "/new/bin/agent-security hook copilot",
    ]


def test_install_refuses_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "hooks" / "agent-security.json"
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    with pytest.raises(InstallError):
        copilot_install.install("project", root=tmp_path, command=["agent-security", "hook", "copilot"])
    assert path.read_text() == "{oops"


def test_user_scope(tmp_path: Path) -> None:
    path = copilot_install.install("user", root=tmp_path, command=["agent-security", "hook", "copilot"])
    assert path == tmp_path / ".copilot" / "hooks" / "agent-security.json"


def test_doctor_good_and_broken(tmp_path: Path, setup: Any) -> None:
    assert copilot_install.doctor(root=tmp_path)[0] is False
    good = tmp_path / "good"
    copilot_install.install("project", root=good, command=setup.runner("copilot"))
    ok, lines = copilot_install.doctor(root=good)
    assert ok, lines
    assert any("canary" in line and "denied" in line for line in lines)

    broken = tmp_path / "broken"
    script = tmp_path / "bin" / "agent-security"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\ncat >/dev/null\necho '{}'\n")  # answers "no objection" to everything
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    copilot_install.install("project", root=broken, command=[str(script), "hook", "copilot"])
    ok, lines = copilot_install.doctor(root=broken)
    assert not ok
    assert any(line.startswith("FAIL canary") for line in lines)
    assert any(line.startswith("FAIL malformed input") for line in lines)
