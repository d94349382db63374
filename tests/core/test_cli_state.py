"""`agent-security check` keeps its state in a SQLite file, so consecutive hook calls (one process each)
share rate limits, session limits and kills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_security.core.builtin import kill_switch
from agent_security.core.store import SqliteStore, default_state_path

POLICY = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [
        {"id": "OK", "description": "reads", "match": {"tool_name": "read_*", "environment": "*"}, "outcome": "ALLOW"}
    ],
    "defaults": {"outcome": "DENY"},
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    config = tmp_path / "agent-security.toml"
    config.write_text(
        "[kill_switch]\n\n[rate_limiter]\nmax_per_minute = 2\n\n[session_context]\nlimits = { read_secret = 1 }\n"
    )
    return policy, config


def _check(config: Path, policy: Path, *args: str) -> tuple[int, dict[str, object]]:
    env = {**os.environ, "AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_security.core.cli",
            "--config",
            str(config),
            "check",
            "--policy",
            str(policy),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_consecutive_check_processes_share_a_rate_limit(files: tuple[Path, Path]) -> None:
    policy, config = files
    codes = [_check(config, policy, "--tool", "read_file", "--agent", "a")[0] for _ in range(3)]
    assert codes == [0, 0, 2]
    _, out = _check(config, policy, "--tool", "read_file", "--agent", "a")
    assert out["reasons"][0]["code"] == "RATE_LIMIT_AGENT"  # type: ignore[index]
    assert _check(config, policy, "--tool", "read_file", "--agent", "b")[0] == 0  # another agent's budget
    assert default_state_path().exists()


def test_consecutive_check_processes_share_a_session_limit(files: tuple[Path, Path]) -> None:
    policy, config = files
    assert _check(config, policy, "--tool", "read_secret", "--agent", "a", "--session", "s")[0] == 0
    code, out = _check(config, policy, "--tool", "read_secret", "--agent", "b", "--session", "s")
    assert code == 2 and out["reasons"][0]["code"] == "SESSION_LIMIT_EXCEEDED"  # type: ignore[index]


def test_a_kill_reaches_the_next_check_process(files: tuple[Path, Path]) -> None:
    policy, config = files
    assert _check(config, policy, "--tool", "read_file", "--agent", "bot")[0] == 0
    store = SqliteStore(default_state_path())
    kill_switch(store=store).kill("bot", "incident 9")
    code, out = _check(config, policy, "--tool", "read_file", "--agent", "bot")
    assert code == 2 and out["reasons"] == [{"code": "AGENT_KILL_SWITCH", "message": "incident 9"}]
    kill_switch(store=store).revive("bot")
    assert _check(config, policy, "--tool", "read_file", "--agent", "bot")[0] == 0
    store.close()


def test_a_configured_store_and_namespace_are_used(files: tuple[Path, Path], tmp_path: Path) -> None:
    policy, config = files
    db = tmp_path / "elsewhere.db"
    config.write_text(
        f'[core]\nstore = "sqlite:///{db}"\nstore_namespace = "app:t1"\n\n[rate_limiter]\nmax_per_minute = 1\n'
    )
    assert _check(config, policy, "--tool", "read_file", "--agent", "a")[0] == 0
    assert _check(config, policy, "--tool", "read_file", "--agent", "a")[0] == 2
    store = SqliteStore(db, namespace="app:t1")
    assert store.window_count("rate_limiter:a:a", window_s=60) == 1
    store.close()
    assert not default_state_path().exists()
