"""Issue 16, item 2: eight concurrent ``agent-security check`` processes, fifty calls each, writing one
JSON Lines or SQLite trail: one chain that ``agent-security audit verify`` calls intact, and no call
denied for want of an audit write (no AUDIT_FAILURE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_security.core.audit import verify_file

CLI_WORKER = Path(__file__).with_name("_cli_worker.py")
PROCESSES, CALLS = 8, 50
POLICY = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [
        {
            "id": "READS",
            "description": "reads",
            "match": {"tool_name": "read_*", "environment": "*"},
            "outcome": "ALLOW",
        }
    ],
    "defaults": {"outcome": "DENY"},
}


def _setup(tmp_path: Path, store: str) -> tuple[Path, Path, Path, dict[str, str]]:
    trail = tmp_path / ("trail.db" if store == "sqlite" else "trail.jsonl")
    config = tmp_path / "agent-security.toml"
    # eight processes on two cores: a writer may wait long for the lock on a busy machine (not a failure)
    config.write_text(f'[core.audit]\n{store}_path = "{trail}"\nlock_timeout_s = 120\n')
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    env = {**os.environ, "AGENT_SECURITY_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return trail, config, policy, env


def _finish(procs: list[subprocess.Popen[str]], timeout: float) -> list[tuple[str, str]]:
    """Every process's output, once all have ended (none is left running, whatever is asserted after)."""
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=timeout))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return outputs


def _verify_cli(trail: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_security.core.cli", "audit", "verify", str(trail)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("store", ["jsonl", "sqlite"])
def test_eight_processes_fifty_checks_one_trail(tmp_path: Path, store: str) -> None:
    trail, config, policy, env = _setup(tmp_path, store)
    procs = [
        subprocess.Popen(
            [sys.executable, str(CLI_WORKER), str(config), str(policy), str(w), str(CALLS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(PROCESSES)
    ]
    answers = []
    for proc, (out, err) in zip(procs, _finish(procs, 600), strict=True):
        assert proc.returncode == 0, err[-2000:]
        answers += [json.loads(line) for line in out.splitlines()]
    assert len(answers) == PROCESSES * CALLS
    assert not [a for a in answers if "AUDIT_FAILURE" in a["codes"]]
    assert all(a["allowed"] and a["exit"] == 0 for a in answers)
    verified = _verify_cli(trail, env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = verify_file(trail)
    assert report.ok and report.events >= PROCESSES * CALLS  # a decision per call, plus lifecycle events


@pytest.mark.parametrize("store", ["jsonl", "sqlite"])
def test_concurrent_agent_security_check_commands(tmp_path: Path, store: str) -> None:
    """The installed entry point itself, one process per call, eight at a time."""
    trail, config, policy, env = _setup(tmp_path, store)
    for _ in range(2):
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agent_security.core.cli",
                    "--config",
                    str(config),
                    "check",
                    "--policy",
                    str(policy),
                    "--tool",
                    "read_file",
                    "--agent",
                    f"w{w}",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for w in range(PROCESSES)
        ]
        for proc, (out, err) in zip(procs, _finish(procs, 300), strict=True):
            assert proc.returncode == 0, out + err
            assert "AUDIT_FAILURE" not in out
    verified = _verify_cli(trail, env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_lock_timeout_comes_from_the_config(tmp_path: Path) -> None:
    import fcntl

    from agent_security.core import AgentSecurity

    trail = tmp_path / "trail.jsonl"
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core.audit]\njsonl_path = "{trail}"\nlock_timeout_s = 0.2\n')
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    errors: list[str] = []
    with AgentSecurity(
        config_path=config, policy_path=policy, autoload=False, on_error=lambda exc, where: errors.append(str(exc))
    ) as security:
        assert security.check_tool_call(tool_name="read_file", agent_id="a").allowed
        with open(trail, "ab") as holder:  # another writer holds the trail
            fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
            result = security.check_tool_call(tool_name="read_file", agent_id="a")
            fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
    assert not result.allowed
    assert "AUDIT_FAILURE" in result.final_decision.codes
    assert any("more than 0.2 s" in e for e in errors), errors
