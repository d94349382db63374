"""Shared by the daemon tests (imported by conftest.py and the test modules): a private runtime directory, a
launcher and the real daemon as subprocesses (with the test host of ``hookhost`` registered)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent_security.adapters.daemon.client import request_daemon
from agent_security.adapters.daemon.freshness import client_identity, selection_key
from agent_security.adapters.daemon.paths import DaemonPaths, daemon_paths
from agent_security.adapters.daemon.protocol import PROTOCOL_VERSION

HERE = Path(__file__).resolve().parent
RUN = HERE / "run.py"
ROOT = HERE.parents[2]
POLICY = ROOT / "examples" / "policies" / "default-policy.json"
ALLOWED = {"hook_event_name": "PreToolUse", "tool_name": "query_database", "tool_input": {"query": "SELECT 1"}}
DENIED = {
    "hook_event_name": "PreToolUse",
    "tool_name": "query_customer_db",
    "tool_input": {"query": "dump all customers"},
}
DEADLINE_S = 60.0


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    pid: int


@dataclass
class Env:
    root: Path
    config: Path
    policy: Path
    env: dict[str, str]
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def paths(self) -> DaemonPaths:
        identity = client_identity(None, env=self.env, cwd=str(self.root))
        return daemon_paths(selection_key(identity), str(self.root / "agent-security"))

    def write_config(self, adapters: str = 'daemon = "manual"') -> None:
        self.config.write_text(f'[core]\npolicy_path = "{self.policy}"\n\n[adapters]\n{adapters}\n')

    def hook(self, payload: dict[str, Any] | bytes, *args: str, **extra_env: str) -> tuple[int, dict[str, Any], str]:
        """One hook call through the real launcher: exit code, the answer's JSON (or {}), stderr."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        proc = subprocess.run(
            [sys.executable, str(RUN), "hook", "test-host", *args],
            input=raw,
            capture_output=True,
            env={**self.env, **extra_env},
            cwd=self.root,
            timeout=DEADLINE_S,
            check=False,
        )
        out = proc.stdout.decode()
        return proc.returncode, (json.loads(out) if out.strip() else {}), proc.stderr.decode()

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, str(RUN), "serve", *args],
            env=self.env,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.started.append(proc)
        return proc

    def ping(self) -> dict[str, Any] | None:
        try:
            return request_daemon(self.paths, {"v": PROTOCOL_VERSION, "op": "ping"}, 5.0)
        except Exception:
            return None

    def serve(self, *args: str) -> Daemon:
        """A daemon, once it answers (polled against a deadline, never a fixed sleep)."""
        proc = self.start(*args)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            reply = self.ping()
            if reply is not None and reply.get("pid") == proc.pid:
                return Daemon(proc, proc.pid)
            if proc.poll() is not None:
                raise AssertionError(
                    f"the daemon exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''!r}"
                )
            time.sleep(0.02)
        raise AssertionError("the daemon did not answer in time")


@pytest.fixture
def denv(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    # A short path: a unix socket's path is limited to ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="asd-", dir="/tmp"))
    root.chmod(0o700)
    policy = root / "policy.json"
    shutil.copy(POLICY, policy)
    config = root / "config.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_SECURITY_", "PYTHON"))}
    env.update(
        XDG_RUNTIME_DIR=str(root),
        AGENT_SECURITY_CONFIG=str(config),
        AGENT_SECURITY_STATE_DIR=str(root / "state"),
        AGENT_SECURITY_DAEMON_TIMEOUT="10",
    )
    for key in ("XDG_RUNTIME_DIR", "AGENT_SECURITY_CONFIG", "AGENT_SECURITY_STATE_DIR"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("AGENT_SECURITY_NO_CONFIG")
    e = Env(root, config, policy, env)
    e.write_config()
    yield e
    for proc in e.started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    shutil.rmtree(root, ignore_errors=True)
