"""The MCP proxy (mcp 2.3, this environment) answering a client on the old SDK and protocol (mcp 1.x, in
``.venv-mcp1``, named by ``AGENT_SECURITY_MCP1_PYTHON``). Run with ``make test-mcp1``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
UPSTREAM = HERE.parents[1] / "mcp_proxy" / "upstream_server.py"
SECRET = "sk-" + "proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
POLICY = """
version: "1"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - {id: DENY_DELETE, match: {tool_name: mcp__upstream-test__delete_all, environment: "*"}, outcome: DENY}
  - {id: ALLOW_REST, match: {tool_name: "*", environment: "*"}, outcome: ALLOW}
defaults: {outcome: DENY}
"""


def test_old_sdk_client_through_the_proxy(tmp_path: Path) -> None:
    old_python = os.environ["AGENT_SECURITY_MCP1_PYTHON"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    log = tmp_path / "upstream.log"
    calls = [
        ["echo", {"text": "hello"}],
        ["delete_all", {"scope": "prod"}],
        ["add", {"a": 1, "b": "two"}],
        ["read_secret", {"name": "db"}],
    ]
    proxy = [
        sys.executable,
        "-m",
        "agent_security.core.cli",
        "mcp",
        "proxy",
        "--policy",
        str(policy),
        "--",
        sys.executable,
        str(UPSTREAM),
    ]
    proc = subprocess.run(
        [old_python, str(HERE / "client_v1.py"), json.dumps(calls), "--", *proxy],
        capture_output=True,
        timeout=120,
        env={**os.environ, "UPSTREAM_LOG": str(log)},
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out = json.loads(proc.stdout)
    version = subprocess.run(
        [old_python, "-c", "import importlib.metadata as m; print(m.version('mcp'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith("1.")
    assert out["protocol"] < "2026-07-28"  # the old protocol (handshake era)
    assert "delete_all" not in out["tools"] and "echo" in out["tools"]
    echo, delete, bad_args, secret = out["calls"]
    assert echo == [False, "hello"]
    assert delete[0] and "DENY_DELETE" in delete[1]
    assert bad_args[0] and "MCP_ARGS_INVALID" in bad_args[1]
    assert not secret[0] and SECRET not in secret[1]
    assert [line.split(" ", 1)[0] for line in log.read_text().splitlines()] == ["echo", "read_secret"]
