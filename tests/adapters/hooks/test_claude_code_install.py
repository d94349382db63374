"""``agent-security install claude-code`` and ``agent-security doctor claude-code``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agent_security.adapters.hooks import claude_code_install as cci
from tests.adapters.hooks.conftest import EXAMPLE, SCRIPT


def _settings(root: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((root / ".claude" / "settings.json").read_text())  # type: ignore[no-any-return]


def test_install_writes_every_event_in_exec_form_with_timeout_and_on_failure_block(tmp_path: Path) -> None:
    path = cci.install("user", root=tmp_path)
    assert path == tmp_path / ".claude" / "settings.json"
    hooks = _settings(tmp_path)["hooks"]
    assert set(hooks) == {"PreToolUse", "PostToolUse", "PermissionRequest", "UserPromptSubmit"}
    for event, groups in hooks.items():
        (group,) = groups
        assert group.get("matcher") == (None if event == "UserPromptSubmit" else "*")
        (entry,) = group["hooks"]
        assert entry["type"] == "command" and Path(entry["command"]).is_absolute()
        assert Path(entry["command"]).name == "agent-security" and Path(entry["command"]).is_file()
        assert entry["args"] == ["hook", "claude-code"]
        assert entry["timeout"] == cci.HOOK_TIMEOUT and entry["onFailure"] == "block"


def test_install_is_idempotent_and_keeps_the_users_settings_and_hooks(tmp_path: Path) -> None:
    target = tmp_path / ".claude" / "settings.json"
    target.parent.mkdir()
    theirs = {"matcher": "Bash", "hooks": [{"type": "command", "command": "my-linter"}]}
    target.write_text(
        json.dumps(
            {
                "model": "opus",
                "permissions": {"deny": ["Read(.env)"]},
                "hooks": {"PreToolUse": [theirs], "Stop": [{"hooks": [{"type": "command", "command": "notify"}]}]},
            }
        )
    )
    cci.install("project", root=tmp_path)
    first = target.read_bytes()
    data = json.loads(first)
    assert data["model"] == "opus" and data["permissions"] == {"deny": ["Read(.env)"]}
    assert data["hooks"]["PreToolUse"][0] == theirs and len(data["hooks"]["PreToolUse"]) == 2
    assert data["hooks"]["Stop"] == [{"hooks": [{"type": "command", "command": "notify"}]}]
    mtime = target.stat().st_mtime_ns
    cci.install("project", root=tmp_path)
    assert target.read_bytes() == first and target.stat().st_mtime_ns == mtime


def test_install_replaces_an_older_entry_of_ours_in_place(tmp_path: Path) -> None:
    target = tmp_path / ".claude" / "settings.json"
    target.parent.mkdir()
    old = {"type": "command", "command": "/old/bin/agent-security hook claude-code", "onFailure": "continue"}
    target.write_text(
        json.dumps(
            {
                "hooks": {
                    "PreToolUse": [
                        {"matcher": "Bash", "hooks": [old]},
                        {"matcher": "Read", "hooks": [{"command": "x"}]},
                    ]
                }
            }
        )
    )
    cci.install("project", root=tmp_path)
    groups = _settings(tmp_path)["hooks"]["PreToolUse"]
    assert len(groups) == 2 and groups[0]["matcher"] == "*" and groups[0]["hooks"][0]["onFailure"] == "block"
    assert groups[1] == {"matcher": "Read", "hooks": [{"command": "x"}]}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"hooks": []}'])
def test_install_refuses_a_settings_file_it_cannot_read_and_leaves_it(tmp_path: Path, content: str) -> None:
    target = tmp_path / ".claude" / "settings.json"
    target.parent.mkdir()
    target.write_text(content)
    with pytest.raises(ValueError, match="not changed"):
        cci.install("user", root=tmp_path)
    assert target.read_text() == content


def test_managed_scope_path_per_os(tmp_path: Path) -> None:
    assert cci.managed_settings_path("Linux") == Path("/etc/claude-code/managed-settings.json")
    assert cci.managed_settings_path("Darwin").name == "managed-settings.json"
    assert "ClaudeCode" in str(cci.managed_settings_path("Windows"))
    assert cci.install("managed", root=tmp_path).is_relative_to(tmp_path)


def test_cli_install_then_doctor_reports_a_live_hook(tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core]\npolicy_path = "{EXAMPLE / "policy.yaml"}"\n')
    done = subprocess.run(
        [str(SCRIPT), "--config", str(config), "install", "claude-code", "--user", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    entry = _settings(tmp_path)["hooks"]["PreToolUse"][0]["hooks"][0]
    assert entry["args"] == ["--config", str(config), "hook", "claude-code"]
    doctor = subprocess.run(
        [str(SCRIPT), "doctor", "claude-code", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert doctor.returncode == 0, doctor.stdout
    assert "canary call (Bash 'rm -rf /') is blocked" in doctor.stdout and "hooks are live" in doctor.stdout


def test_doctor_reports_a_missing_command(tmp_path: Path) -> None:
    cci.install("user", root=tmp_path, command=[str(tmp_path / "gone" / "agent-security"), "hook", "claude-code"])
    ok, lines = cci.doctor(root=tmp_path)
    assert not ok
    assert any(line.startswith("FAIL") and "does not exist" in line for line in lines)


def test_doctor_reports_on_failure_continue_and_no_timeout(tmp_path: Path) -> None:
    cci.install("user", root=tmp_path)
    target = tmp_path / ".claude" / "settings.json"
    data = json.loads(target.read_text())
    entry = data["hooks"]["PostToolUse"][0]["hooks"][0]
    entry["onFailure"] = "continue"
    del entry["timeout"]
    target.write_text(json.dumps(data))
    ok, lines = cci.doctor(root=tmp_path)
    assert not ok
    assert any("FAIL" in line and "onFailure is 'continue'" in line for line in lines)
    assert any("FAIL" in line and "timeout set (None" in line for line in lines)


def test_doctor_reports_a_hook_that_runs_but_does_not_block(tmp_path: Path) -> None:
    fake = tmp_path / "agent-security"
    fake.write_text("#!/bin/sh\ncat >/dev/null\necho '{}'\n")
    fake.chmod(0o755)
    cci.install("user", root=tmp_path, command=[str(fake), "hook", "claude-code"])
    ok, lines = cci.doctor(root=tmp_path)
    assert not ok and any("FAIL" in line and "is blocked" in line for line in lines)


def test_doctor_reports_nothing_configured(tmp_path: Path) -> None:
    ok, lines = cci.doctor(root=tmp_path)
    assert not ok and "FAIL  PreToolUse: configured nowhere" in lines


def test_install_for_a_host_without_an_installer_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "install", "nosuchhost", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 1 and "unknown host 'nosuchhost'" in proc.stderr
