"""One tool call, reported by Claude Code, Cursor or the Copilot CLI, is the same check: the same action
type, arguments (command, resolved path, URL), MCP identity and context facts, so one policy decides it
the same way in every host."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_security.adapters.hooks import claude_code, copilot, cursor
from agent_security.adapters.hooks.registry import answer_hook

CWD = "/home/dev/project"


def from_claude(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    event = {"hook_event_name": "PreToolUse", "session_id": "s", "cwd": CWD, "tool_name": tool, "tool_input": args}
    return claude_code.plan(event).fields


def from_cursor(tool: str, args: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = {"hook_event_name": "preToolUse", "cwd": CWD, "tool_name": tool, "tool_input": args, **fields}
    return cursor.call_facts(data).check_fields({})


def from_copilot(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    data = {"timestamp": 1, "cwd": CWD, "toolName": tool, "toolArgs": json.dumps(args)}
    return copilot.call_facts(data).check_fields({})


def same_call(*reports: dict[str, Any], args: tuple[str, ...] | None = None) -> None:
    """Every report has the first one's action type, MCP identity and context facts, and the same
    arguments (all of them, or those named in ``args`` when the hosts' own arguments differ)."""
    first = reports[0]
    for other in reports[1:]:
        assert other["action_type"] == first["action_type"]
        assert other.get("tool_identity") == first.get("tool_identity")
        if args is None:
            assert other["tool_args"] == first["tool_args"]
        else:
            assert {a: other["tool_args"].get(a) for a in args} == {a: first["tool_args"].get(a) for a in args}
        facts = {k: v for k, v in other["context"].items() if k not in ("host", "hook_event", "cwd")}
        assert facts == {k: v for k, v in first["context"].items() if k not in ("host", "hook_event", "cwd")}


def test_a_shell_command() -> None:
    reports = [
        from_claude("Bash", {"command": "git status"}),
        from_cursor("Shell", {"command": "git status"}),
        from_copilot("bash", {"command": "git status"}),
    ]
    same_call(*reports)
    assert reports[0]["action_type"] == "shell" and reports[0]["tool_args"] == {"command": "git status"}


def test_a_file_write_to_a_relative_path() -> None:
    reports = [
        from_claude("Write", {"file_path": "../other/.env", "content": "A=1"}),
        from_cursor("Write", {"file_path": "../other/.env", "contents": "A=1"}),
        from_copilot("create", {"path": "../other/.env", "file_text": "A=1"}),
    ]
    same_call(*reports, args=("file_path",))
    assert reports[0]["action_type"] == "file_write"
    assert reports[0]["tool_args"]["file_path"] == "/home/dev/other/.env"
    assert reports[0]["context"]["paths"] == ["/home/dev/other/.env"]


def test_cursor_resolves_against_the_workspace_root_without_a_cwd() -> None:
    data = {
        "hook_event_name": "preToolUse",
        "workspace_roots": [CWD],
        "tool_name": "Read",
        "tool_input": {"file_path": "a/../b.py"},
    }
    assert cursor.call_facts(data).tool_args["file_path"] == f"{CWD}/b.py"


def test_an_mcp_tool() -> None:
    args = {"title": "bug", "body": "text"}
    before_mcp = {
        "hook_event_name": "beforeMCPExecution",
        "tool_name": "create_issue",
        "tool_input": json.dumps(args),
        "mcp_server_name": "github",
    }
    reports = [
        from_claude("mcp__github__create_issue", args),
        from_cursor("MCP:create_issue", args, mcp_server_name="github"),
        cursor._mcp_facts(before_mcp).check_fields({}),
        from_copilot("mcp__github__create_issue", args),
    ]
    same_call(*reports)
    assert {r["tool_name"] for r in reports} == {"mcp__github__create_issue"}
    assert reports[0]["tool_identity"] == {"tool_name": "github/create_issue", "provider": "mcp"}


def test_a_web_fetch() -> None:
    url = "https://docs.example.com/page"
    reports = [
        from_claude("WebFetch", {"url": url, "prompt": "summarise"}),
        from_cursor("WebFetch", {"url": url, "prompt": "summarise"}),
        from_copilot("web_fetch", {"url": url, "prompt": "summarise"}),
    ]
    same_call(*reports)
    assert reports[0]["action_type"] == "http_request" and reports[0]["context"]["url_host"] == "docs.example.com"


POLICY: dict[str, Any] = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00.000Z",
    "expires_at": "2099-01-01T00:00:00.000Z",
    "rules": [
        {
            "id": "DENY_ENV_FILES",
            "match": {"tool_name": "*"},
            "when": {"tool_args_match": {"file_path": {"regex": "(^|/)\\.env$"}}},
            "outcome": "DENY",
        },
        {"id": "ALLOW_ALL", "match": {"tool_name": "*"}, "outcome": "ALLOW"},
    ],
    "defaults": {"outcome": "DENY"},
}


@pytest.mark.parametrize(
    ("host", "payload"),
    [
        (
            "claude-code",
            {
                "hook_event_name": "PreToolUse",
                "cwd": CWD,
                "tool_name": "Write",
                "tool_input": {"file_path": "../x/.env"},
            },
        ),
        (
            "cursor",
            {
                "hook_event_name": "preToolUse",
                "cwd": CWD,
                "tool_name": "Write",
                "tool_input": {"file_path": "../x/.env"},
            },
        ),
        ("copilot", {"cwd": CWD, "toolName": "create", "toolArgs": json.dumps({"path": "../x/.env", "file_text": ""})}),
    ],
)
def test_one_policy_decides_the_call_the_same_way_in_every_host(
    setup: Any, tmp_path: Path, host: str, payload: dict[str, Any]
) -> None:
    policy = tmp_path / "env-policy.json"
    policy.write_text(json.dumps(POLICY))
    with setup.security(policy_path=policy) as security:
        answer = answer_hook(host, json.dumps(payload).encode(), security)
        assert answer.exit_code == 0, answer.stderr
        assert "DENY_ENV_FILES" in answer.stdout
        decision = security.get_audit_log()[-1]
        assert decision.allowed is False
