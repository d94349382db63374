"""`agent-security check` (every hook) on a Redis store: one process per call, the fleet's state shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent_security.core.builtin import kill_switch
from agent_security.core.store import default_state_path, open_store

POLICY = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [{"id": "OK", "description": "all", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
    "defaults": {"outcome": "DENY"},
}


def _check(config: Path, policy: Path, agent: str) -> tuple[int, Any]:
    env = {**os.environ, "AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "agent_security.core.cli", "--config", str(config), "check", "--policy", str(policy),
         "--tool", "read_file", "--agent", agent],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 2), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_check_processes_share_limits_and_kills_through_redis(redis_server: Any, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    config = tmp_path / "agent-security.toml"
    config.write_text(
        f'[core]\nstore = "{redis_server.url}"\nstore_namespace = "hooks"\n\n'
        "[kill_switch]\n\n[rate_limiter]\nmax_per_minute = 2\n"
    )
    assert [_check(config, policy, "a")[0] for _ in range(3)] == [0, 0, 2]
    store = open_store(redis_server.url, namespace="hooks")
    assert store.window_count("rate_limiter:a:a", window_s=60) == 2
    kill_switch(store=store).kill("b", "incident 7")
    code, out = _check(config, policy, "b")
    assert code == 2 and out["reasons"] == [{"code": "AGENT_KILL_SWITCH", "message": "incident 7"}]
    store.close()
    assert not default_state_path().exists()  # no SQLite file: the configured store is the only state


def test_an_unreachable_redis_denies_the_hook(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    config = tmp_path / "agent-security.toml"
    config.write_text('[core]\nstore = "redis://127.0.0.1:1/0?timeout_s=0.2"\n\n[kill_switch]\n')
    code, out = _check(config, policy, "a")
    assert code == 2 and out["reasons"][0]["code"] == "STORE_UNAVAILABLE"
