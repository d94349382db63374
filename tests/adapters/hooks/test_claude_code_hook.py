"""``agent-security hook claude-code`` run as Claude Code runs it: a subprocess, the host's JSON on stdin.

Claude Code blocks on exit 2 or a deny decision (read on exit 0 only) and runs the tool on any other exit
code or a timeout: every failure here must be exit 2, fast."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from agent_security.core.builtin import kill_switch
from agent_security.core.store import SqliteStore, default_state_path
from agent_security.egress.testing import github_token
from tests.adapters.hooks.conftest import EXAMPLE, SCRIPT, event, run_hook


def test_curl_pipe_to_shell_is_denied_by_the_governor(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("bash-curl-pipe-sh.json"))
    assert run.code == 0, run.stderr
    assert run.decision == "deny"
    assert "COMMAND_BLOCKED" in run.json["hookSpecificOutput"]["permissionDecisionReason"]


def test_a_policy_allow_leaves_the_users_permission_rules_in_force(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("bash-ls.json"))  # carries unknown fields and an "effort" object
    assert (run.code, run.json) == (0, {}), run.stderr


def test_unknown_enum_values_and_fields_are_read_tolerantly() -> None:
    payload = event(
        tool_name="Bash",
        tool_input={"command": "ls", "brand_new_arg": {"x": [1]}},
        permission_mode="someFutureMode",
        effort={"level": "ultra"},
        agent_type="brand-new-agent-kind",
        hook_event_name="PreToolUse",
    )
    run = run_hook(payload)
    assert (run.code, run.json) == (0, {}), run.stderr


def test_write_to_a_sensitive_path_is_denied_after_resolving_it_against_cwd(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("write-ssh-key.json"))
    assert run.decision == "deny"
    assert "DENY_SENSITIVE_FILE_WRITE" in run.json["hookSpecificOutput"]["permissionDecisionReason"]
    plain = run_hook(event(tool_name="Write", tool_input={"file_path": "src/app.py", "content": "x = 1\n"}))
    assert plain.json == {}


def test_a_secret_in_tool_input_is_denied_by_egress() -> None:
    token = github_token(random.Random(3))
    run = run_hook(event(tool_name="Write", tool_input={"file_path": "a.py", "content": f"T = '{token}'"}))
    assert run.decision == "deny" and "EGRESS_BLOCKED" in run.stdout
    assert token not in run.stdout


def test_mcp_tools_are_matched_by_server_and_tool_and_approval_becomes_ask(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("mcp-delete.json"))
    assert run.decision == "ask"
    assert "ASK_UNKNOWN_MCP_DELETE" in run.json["hookSpecificOutput"]["permissionDecisionReason"]
    plugin_tool = run_hook(event(tool_name="mcp__plugin_acme_db__drop_table", tool_input={"t": "users"}))
    assert plugin_tool.decision == "ask"
    assert run_hook(event(tool_name="mcp__github__list_issues", tool_input={})).json == {}


def test_an_approval_in_a_mode_that_asks_nobody_is_a_denial() -> None:
    run = run_hook(event(tool_name="mcp__github__delete_repo", tool_input={}, permission_mode="bypassPermissions"))
    assert run.decision == "deny" and "asks nobody" in run.stdout


def test_unpinned_mcp_tool_is_denied_with_a_lock(tmp_path: Path) -> None:
    lock = tmp_path / "mcp.lock.json"
    lock.write_text('{"version": 1, "servers": {}}')
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[supply_chain]\nlock_file = "{lock}"\n')
    run = run_hook(event(tool_name="mcp__evil__exfiltrate", tool_input={}), config=config)
    if run.code == 2:  # a lock format this test did not get right is still a block, but say why
        raise AssertionError(run.stderr)
    assert run.decision == "deny" and "UNVERIFIED_MCP_TOOL" in run.stdout


def test_post_tool_use_redacts_in_the_tools_output_shape(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("post-bash-card.json"))
    out = run.json["hookSpecificOutput"]["updatedToolOutput"]
    assert set(out) == {"stdout", "stderr", "interrupted", "isImage"}
    assert "4111 1111 1111 1111" not in out["stdout"] and "1111" in out["stdout"]
    mcp = run_hook(
        event(
            "PostToolUse",
            tool_name="mcp__db__query",
            tool_input={},
            tool_response=[{"type": "text", "text": "card 4111 1111 1111 1111"}],
        )
    )
    spec = mcp.json["hookSpecificOutput"]
    assert spec["updatedMCPToolOutput"] == spec["updatedToolOutput"]
    assert (
        spec["updatedMCPToolOutput"][0]["type"] == "text" and "4111 1111" not in spec["updatedMCPToolOutput"][0]["text"]
    )


def test_post_tool_use_withholds_output_egress_blocks(tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text('[egress]\nresult_actions = { PCI = "block" }\n')
    response = {"stdout": "card 4111 1111 1111 1111", "stderr": "warn", "interrupted": False, "isImage": False}
    run = run_hook(
        event("PostToolUse", tool_name="Bash", tool_input={"command": "cat x"}, tool_response=response), config=config
    )
    assert run.json["decision"] == "block" and "EGRESS_BLOCKED" in run.json["reason"]
    replaced = run.json["hookSpecificOutput"]["updatedToolOutput"]
    assert set(replaced) == set(response) and replaced["interrupted"] is False
    assert "4111" not in run.stdout and "withheld" in replaced["stdout"]


def test_permission_request_denies_or_has_no_opinion() -> None:
    denied = run_hook(
        event(
            "PermissionRequest",
            tool_name="Bash",
            tool_input={"command": "rm -rf /"},
            permission_suggestions=[{"type": "addRules"}],
        )
    )
    decision = denied.json["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "deny" and "COMMAND_BLOCKED" in decision["message"]
    assert run_hook(event("PermissionRequest", tool_name="Bash", tool_input={"command": "ls"})).json == {}


def test_user_prompt_submit_blocks_a_secret_and_passes_a_plain_prompt(example_payload) -> None:  # type: ignore[no-untyped-def]
    assert run_hook(example_payload("prompt.json")).json == {}
    token = github_token(random.Random(5))
    run = run_hook(event("UserPromptSubmit", prompt=f"deploy with {token}"))
    assert run.json["decision"] == "block" and "EGRESS_BLOCKED" in run.json["reason"]


def test_other_events_get_no_opinion() -> None:
    assert run_hook(event("PostToolUseFailure", tool_name="Bash", tool_input={}, error="x")).json == {}


def test_a_kill_denies_and_stops_claude(tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text("[kill_switch]\n")
    store = SqliteStore(default_state_path())
    try:
        kill_switch(store=store).kill("claude-code", "incident 42")
    finally:
        store.close()
    run = run_hook(
        event(tool_name="Bash", tool_input={"command": "ls"}, agent_id="sub-1", agent_type="Explore"), config=config
    )
    assert run.decision == "deny" and run.json["continue"] is False
    assert "AGENT_KILL_SWITCH: incident 42" in run.json["stopReason"]


# ---- every failure is exit 2 ------------------------------------------------------------------------


def test_malformed_json_is_exit_2(example_payload) -> None:  # type: ignore[no-untyped-def]
    run = run_hook(example_payload("malformed.json"))
    assert run.code == 2 and "not valid JSON" in run.stderr and run.stdout == ""


def test_missing_fields_duplicates_and_non_objects_are_exit_2() -> None:
    cases = [
        b'{"tool_name": "Bash", "tool_input": {"command": "ls"}}',
        b'{"hook_event_name": "PreToolUse", "tool_input": {"command": "ls"}}',
        b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": "ls"}',
        b'{"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": {}}',
        b'{"hook_event_name": "UserPromptSubmit"}',
        b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_name": "Read", "tool_input": {}}',
        b"[1, 2]",
        b"\xff\xfe",
        b"",
    ]
    for raw in cases:
        run = run_hook(raw)
        assert run.code == 2 and run.stderr.startswith("agent-security: blocked:"), (raw, run)


def test_huge_input_is_exit_2() -> None:
    raw = (
        b'{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "'
        + b"a" * (11 * 1024 * 1024)
        + b'"}}'
    )
    run = run_hook(raw)
    assert run.code == 2 and "exceeds" in run.stderr


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "click command"])
def test_stdin_never_closed_is_exit_2_fast(fast_path: bool) -> None:
    argv = [str(SCRIPT), "hook", "claude-code", "--stdin-timeout", "0.5"]
    if not fast_path:  # --policy is taken by the click command only
        argv += ["--policy", str(EXAMPLE / "policy.yaml")]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdin is not None
        proc.stdin.write(b'{"hook_event_name": "PreToolUse"')
        proc.stdin.flush()
        started = time.monotonic()
        code = proc.wait(timeout=30)
        elapsed = time.monotonic() - started
        assert code == 2 and elapsed < 20
        assert proc.stderr is not None and b"not closed within 0.5 s" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_a_policy_that_does_not_load_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nrules: [ {id: X, outcome: NOPE} ]\n")
    run = run_hook(event(tool_name="Bash", tool_input={"command": "ls"}), policy=bad)
    assert run.code == 2 and "blocked" in run.stderr
    missing = run_hook(event(tool_name="Bash", tool_input={"command": "ls"}), policy=tmp_path / "none.yaml")
    assert missing.code == 2


def test_a_config_that_does_not_load_is_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text("[core\nnot toml")
    run = run_hook(event(tool_name="Bash", tool_input={"command": "ls"}), config=config)
    assert run.code == 2 and "blocked" in run.stderr


def test_an_unavailable_store_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    run = run_hook(
        event(tool_name="Bash", tool_input={"command": "ls"}), env={"AGENT_SECURITY_STATE_DIR": str(blocker / "sub")}
    )
    assert run.code == 2 and "state store" in run.stderr


def test_an_unknown_host_is_exit_2() -> None:
    proc = subprocess.run(
        [str(SCRIPT), "hook", "nosuchhost"], input=b"{}", capture_output=True, check=False, timeout=60
    )
    assert proc.returncode == 2 and b"unknown host" in proc.stderr


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "click command"])
def test_the_whole_call_past_its_timeout_is_exit_2(tmp_path: Path, fast_path: bool) -> None:
    # Another process holds the state store's write lock: the check waits for it (up to the store's own
    # timeout, 5 s) and the hook's deadline answers first.
    import sqlite3

    db = tmp_path / "state.db"
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core]\npolicy_path = "{EXAMPLE / "policy.yaml"}"\nstore = "sqlite:///{db}"\n')
    warm = run_hook(event(tool_name="Bash", tool_input={"command": "ls"}), config=config, policy=None)
    assert warm.code == 0, warm.stderr  # the store exists, with its schema
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # --policy is taken by the click command only (the fast path reads the policy from the config)
        policy = None if fast_path else EXAMPLE / "policy.yaml"
        run = run_hook(
            event(tool_name="Bash", tool_input={"command": "ls"}), "--timeout", "0.5", config=config, policy=policy
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.code == 2 and "within 0.5 s" in run.stderr
