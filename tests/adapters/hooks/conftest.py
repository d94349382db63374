"""Fixtures of the host hook tests: a policy, a config with a JSON Lines audit trail, a real AgentSecurity
on a SQLite store, and a runner process (``agent-security-test-hook.py``) sharing that store."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_security.core.pipeline.facade import AgentSecurity
from agent_security.core.store import open_store

RUNNER = Path(__file__).with_name("agent-security-test-hook.py")

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
        return [sys.executable, str(RUNNER), "hook", host, str(self.config)]


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
