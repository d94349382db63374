"""Running ``agent-security hook claude-code`` as Claude Code does: a real subprocess, JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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
