"""What a hook's in-process check loads: a host runs one fresh process per tool call, so a module it does
not need is paid on every call. A synchronous check of a JSON policy with every distribution installed and
nothing configured imports no event loop, no YAML parser, no JWT library or X.509 code, no click, no
HTTP client and no terminal renderer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "default-policy.json"
CALL = {
    "session_id": "s",
    "cwd": "/tmp",
    "hook_event_name": "PreToolUse",
    "tool_name": "Bash",
    "tool_input": {"command": "ls -la"},
    "tool_use_id": "t",
}
NOT_NEEDED = ("asyncio", "yaml", "jwt", "cryptography.x509", "click", "httpx", "rich")

PROBE = """
import io, json, sys
from agent_security.adapters.hooks.inprocess import answer_in_process
answer = answer_in_process("claude-code", sys.stdin.buffer.read(), policy_path={POLICY!r})
loaded = sorted(m for m in {NOT_NEEDED!r} if m in sys.modules)
print(json.dumps({{"answer": answer.stdout, "exit": answer.exit_code, "loaded": loaded}}))
"""


def test_a_cold_in_process_hook_check_loads_only_what_it_uses(tmp_path: Path) -> None:
    env = {**os.environ, "AGENT_SECURITY_STATE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(NOT_NEEDED=NOT_NEEDED, POLICY=str(POLICY))],
        input=json.dumps(CALL).encode(),
        capture_output=True,
        env=env,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["exit"] == 0 and "permissionDecision" in result["answer"]  # a real check ran
    assert result["loaded"] == []
