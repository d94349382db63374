"""Fixtures of the host hook tests: running ``agent-security hook <host>`` as a host does (a real subprocess,
JSON on stdin), a policy, a config with a JSON Lines audit trail and a real AgentSecurity on a SQLite store."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_security.adapters.hooks.answer import HookAnswer
from agent_security.core.pipeline.facade import AgentSecurity
from agent_security.core.store import open_store

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "claude-code"
SCRIPT = Path(sys.executable).parent / "agent-security"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def decision(self) -> str | None:
        return self.json.get("hookSpecificOutput", {}).get("permissionDecision")  # type: ignore[no-any-return]


def event(name: str = "PreToolUse", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "session_id": "s-1",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/home/dev/project",
        "permission_mode": "default",
        "hook_event_name": name,
    }
    if name in ("PreToolUse", "PostToolUse"):
        base["tool_use_id"] = "toolu_1"
    base.update(fields)
    return base


def run_hook(
    stdin: bytes | dict[str, Any] | None,
    *args: str,
    policy: Path | None = EXAMPLE / "policy.yaml",
    config: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    data = json.dumps(stdin).encode() if isinstance(stdin, dict) else stdin
    argv = [str(SCRIPT)]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["hook", "claude-code", *args]
    if policy is not None:
        argv += ["--policy", str(policy)]
    proc = subprocess.run(
        argv,
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def example_payload() -> Any:
    def load(name: str) -> bytes:
        return (EXAMPLE / "payloads" / name).read_bytes()

    return load


POLICY: dict[str, Any] = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00.000Z",
    "expires_at": "2099-01-01T00:00:00.000Z",
    "rules": [
        {"id": "DENY_DEPLOY", "match": {"tool_name": "mcp__prod__deploy", "environment": "*"}, "outcome": "DENY"},
        {"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"},
    ],
    "defaults": {"outcome": "DENY"},
}


@dataclass
class Setup:
    config: Path
    audit: Path
    db: Path

    def security(self, **kwargs: Any) -> AgentSecurity:
        return AgentSecurity(config_path=self.config, store=open_store(f"sqlite:///{self.db}"), **kwargs)

    def decisions(self) -> list[dict[str, Any]]:
        if not self.audit.exists():
            return []
        events = [json.loads(line) for line in self.audit.read_text().splitlines() if line.strip()]
        return [e for e in events if e.get("kind") == "decision"]

    def runner(self, host: str) -> list[str]:
        """The hook command a host runs, with this setup's config."""
        return [str(SCRIPT), "--config", str(self.config), "hook", host]

    def run(self, host: str, payload: dict[str, Any] | bytes) -> subprocess.CompletedProcess[bytes]:
        """Run the hook command as ``host`` does: a process of its own, ``payload`` on stdin."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return subprocess.run(self.runner(host), input=data, capture_output=True, timeout=120, check=False)


def answer_json(answer: HookAnswer) -> dict[str, Any]:
    """The JSON object of an answer that lets the host go on (exit 0)."""
    assert answer.exit_code == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    audit = tmp_path / "audit.jsonl"
    db = tmp_path / "state.db"
    config = tmp_path / "agent-security.toml"
    config.write_text(
        f'[core]\npolicy_path = "{policy}"\nstore = "sqlite:///{db}"\n\n[core.audit]\njsonl_path = "{audit}"\n'
    )
    return Setup(config, audit, db)


@pytest.fixture
def security(setup: Setup) -> Iterator[AgentSecurity]:
    with setup.security() as sec:
        yield sec


@pytest.fixture
def secret() -> str:
    """A GitHub token with a valid checksum (generated: nothing real)."""
    from agent_security.egress.testing import GENERATORS

    return str(GENERATORS["github_token"](random.Random(7)))
