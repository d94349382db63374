"""Send Cursor hook payloads through agent-security and print each answer.

    python examples/cursor/sample_payloads.py                                   # in-process, demo policy
    python examples/cursor/sample_payloads.py --command "agent-security hook cursor"   # the installed hook

In-process uses the demo policy of ``agent-security demo adapters`` and an in-memory store; with
``--command`` each payload is piped to the command exactly as Cursor does (your configuration and policy).
"""

from __future__ import annotations

import argparse
import json
import subprocess

PAYLOADS = [
    {
        "hook_event_name": "preToolUse",
        "tool_name": "Shell",
        "tool_input": {"command": "git status"},
        "tool_use_id": "t1",
    },
    {"hook_event_name": "beforeShellExecution", "command": "git status", "cwd": "."},
    {"hook_event_name": "beforeShellExecution", "command": "rm -rf /", "cwd": "."},
    {"hook_event_name": "beforeShellExecution", "command": "npm install left-pad", "cwd": "."},
    {
        "hook_event_name": "beforeMCPExecution",
        "tool_name": "deploy",
        "tool_input": json.dumps({"service": "api"}),  # Cursor sends MCP arguments as a JSON string
        "mcp_server_name": "prod",
    },
    {"hook_event_name": "beforeReadFile", "file_path": "app.py", "content": "print('hi')\n"},
    {"hook_event_name": "afterFileEdit", "file_path": "app.py", "edits": [{"old_string": "hi", "new_string": "hello"}]},
    {"hook_event_name": "preToolUse", "tool_name": "Shell", "tool_input": "not an object"},
]
COMMON = {
    "conversation_id": "example",
    "generation_id": "example-1",
    "cursor_version": "example",
    "workspace_roots": ["."],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", help="the hook command to pipe each payload to (through the shell)")
    args = parser.parse_args()
    security = None
    if not args.command:
        from agent_security.adapters.demo import DEMO_POLICY
        from agent_security.core import AgentSecurity
        from agent_security.core.store import MemoryStore

        security = AgentSecurity(policy_bundle=DEMO_POLICY(), store=MemoryStore())
    for payload in PAYLOADS:
        raw = json.dumps({**COMMON, **payload}).encode()
        if args.command:
            done = subprocess.run(args.command, shell=True, input=raw, capture_output=True, check=False)
            code, out, err = done.returncode, done.stdout.decode(), done.stderr.decode()
        else:
            from agent_security.adapters.hooks.registry import answer_hook

            answer = answer_hook("cursor", raw, security)  # type: ignore[arg-type]
            code, out, err = answer.exit_code, answer.stdout, answer.stderr
        print(f"{payload['hook_event_name']:<22} exit {code}  {out.strip() or err.strip()}")
    if security is not None:
        security.shutdown()


if __name__ == "__main__":
    main()
