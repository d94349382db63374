"""``agent-security demo fleet``: two ``AgentSecurity`` instances sharing a kill and a rate limit in Redis.

A ``redis-server`` from PATH is started on a free loopback port (no persistence, a temporary directory) and
stopped at the end; both instances open the same ``redis://`` store, as two processes of a fleet would.
Without ``redis-server`` or the ``redis`` client (``pip install 'agent-security-core[redis]'``) the demo
says so and exits 0, except under ``AGENT_SECURITY_REQUIRE_SYSTEM=1`` (CI), where that is an error (1).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agent_security.core.demos.kit import Table

__all__ = ["START_DEADLINE_S", "run_fleet_demo"]

START_DEADLINE_S = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start(program: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    args = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--daemonize", "no"]  # fmt: skip
    log = (workdir / "redis.log").open("ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + START_DEADLINE_S
    while not _ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            tail = (workdir / "redis.log").read_text(errors="replace")[-1000:]
            raise RuntimeError(f"redis-server did not start on port {port}: {tail}")
        time.sleep(0.01)  # waiting for the server to listen
    return proc, port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _missing(what: str, out: Any) -> int:
    required = os.environ.get("AGENT_SECURITY_REQUIRE_SYSTEM") == "1"
    print(f"agent-security demo fleet: {what}; the fleet demo needs a Redis.", file=out)
    if required:
        print("error: AGENT_SECURITY_REQUIRE_SYSTEM=1, so a missing component fails the run", file=out)
        return 1
    print("skipped (install it and run again: make system-deps installs redis-server)", file=out)
    return 0


def run_fleet_demo(stream: Any = None) -> int:
    """Run the fleet demo; 0 when every outcome is the documented one (or Redis is absent and not required)."""
    out = stream or sys.stdout
    program = shutil.which("redis-server")
    if program is None:
        return _missing("redis-server is not on PATH", out)
    if importlib.util.find_spec("redis") is None:
        return _missing("the redis client is not installed (pip install 'agent-security-core[redis]')", out)
    with tempfile.TemporaryDirectory(prefix="agent-security-fleet-") as tmp:
        proc, port = _start(program, Path(tmp))
        try:
            return _run(f"redis://127.0.0.1:{port}/0", out)
        finally:
            _stop(proc)


def _run(url: str, out: Any) -> int:
    from agent_security.core.builtin import kill_switch, rate_limiter
    from agent_security.core.demo import DEMO_POLICY
    from agent_security.core.pipeline.facade import AgentSecurity
    from agent_security.core.store import open_store

    print(f"agent-security demo fleet — two instances, one Redis ({url})", file=out)
    instances: dict[str, Any] = {}
    switches: dict[str, Any] = {}
    stores = [open_store(url, namespace="demo-fleet") for _ in range(2)]  # one connection each, as two processes
    for name, store in zip(("A", "B"), stores, strict=True):
        switches[name] = kill_switch()
        instances[name] = AgentSecurity(
            policy_bundle=DEMO_POLICY(),
            store=store,
            plugins=[switches[name], rate_limiter(max_per_minute=3)],
            autoload=False,
        )
    table = Table(["step", "instance", "call", "outcome", "why"], widths=[4, 8, 30, 26, 60])
    failures: list[str] = []

    def call(step: str, name: str, agent: str, want: str, why: str) -> None:
        result = instances[name].check_tool_call(tool_name="read_report", agent_id=agent, environment="dev")
        codes = result.final_decision.codes
        got = f"{'ALLOW' if result.allowed else 'DENY'} {codes[-1] if codes else ''}".strip()
        table.add(step, name, f"read_report as {agent}", got if got == want else f"{got} UNEXPECTED", why)
        if got != want:
            failures.append(f"step {step}: got {got}, expected {want}")

    try:
        call("1", "A", "agent-x", "ALLOW ALLOW_DEV_STAGING", "nothing stops agent-x yet")
        switches["A"].kill("agent-x", "Compromised credentials")
        call("2", "B", "agent-x", "DENY AGENT_KILL_SWITCH", "A killed agent-x: B reads the kill from Redis")
        switches["B"].revive("agent-x")
        call("3", "A", "agent-x", "ALLOW ALLOW_DEV_STAGING", "B revived agent-x: A sees it at once")
        call("4", "A", "agent-y", "ALLOW ALLOW_DEV_STAGING", "limit: 3 calls per agent per minute, fleet-wide")
        call("5", "B", "agent-y", "ALLOW ALLOW_DEV_STAGING", "call 2 of 3, counted in the same Redis window")
        call("6", "A", "agent-y", "ALLOW ALLOW_DEV_STAGING", "call 3 of 3")
        call(
            "7",
            "B",
            "agent-y",
            "DENY RATE_LIMIT_AGENT",
            "call 4: over the fleet's limit (each instance alone has seen 2)",
        )
    finally:
        for security in instances.values():
            security.shutdown()
        for store in stores:
            store.close()
    table.render(out)
    print(file=out)
    for failure in failures:
        print(f"UNEXPECTED: {failure}", file=out)
    if not failures:
        print("the two instances shared one kill switch and one rate limit", file=out)
    return 1 if failures else 0
