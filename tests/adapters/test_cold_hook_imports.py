"""What a hook's in-process check loads: a host runs one fresh process per tool call, so a module it does
not need is paid on every call. A synchronous check of a JSON policy with every distribution installed and
nothing configured imports no event loop, no YAML parser, no JWT library or X.509 code, no click, no
HTTP client, no terminal renderer and no change-control code; the models it never validates are not built,
and the egress detectors' patterns it never runs are not compiled."""

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
NOT_NEEDED = (
    "asyncio",
    "yaml",
    "jwt",
    "cryptography.x509",
    "click",
    "httpx",
    "rich",
    "agent_security.containment.tickets",
    "html",
)
NOT_BUILT = (
    "agent_security.containment.profiles:SandboxProfile",
    "agent_security.identity.registry:AgentRecord",
    "agent_security.identity.tools:ToolRecord",
)
DETECTORS = (
    "agent_security.egress.classifiers.generic",
    "agent_security.egress.classifiers.numbers",
    "agent_security.egress.classifiers.secrets",
    "agent_security.egress.validators",
)

PROBE = """
import io, json, sys
from agent_security.adapters.hooks.inprocess import answer_in_process
answer = answer_in_process("claude-code", sys.stdin.buffer.read(), policy_path={POLICY!r})
loaded = sorted(m for m in {NOT_NEEDED!r} if m in sys.modules)
built = []
for name in {NOT_BUILT!r}:
    module, _, cls = name.partition(":")
    if getattr(sys.modules[module], cls).__pydantic_complete__:
        built.append(name)
from agent_security.egress._speedups.deferred import deferred_patterns, is_compiled
patterns = [getattr(sys.modules[m], a) for m in {DETECTORS!r} for a in deferred_patterns(vars(sys.modules[m]))]
compiled = sum(1 for p in patterns if not isinstance(p, dict) and is_compiled(p))
print(json.dumps({{"answer": answer.stdout, "exit": answer.exit_code, "loaded": loaded, "built": built,
                  "patterns": len(patterns), "compiled": compiled}}))
"""


def test_a_cold_in_process_hook_check_loads_only_what_it_uses(tmp_path: Path) -> None:
    env = {**os.environ, "AGENT_SECURITY_STATE_DIR": str(tmp_path)}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE.format(NOT_NEEDED=NOT_NEEDED, NOT_BUILT=NOT_BUILT, DETECTORS=DETECTORS, POLICY=str(POLICY)),
        ],
        input=json.dumps(CALL).encode(),
        capture_output=True,
        env=env,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["exit"] == 0 and "permissionDecision" in result["answer"]  # a real check ran
    assert result["loaded"] == []
    assert result["built"] == []
    assert result["patterns"] >= 25 and result["compiled"] <= 5, result
