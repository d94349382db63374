"""Host tool calls as check fields: shell commands, resolved paths, URLs, MCP server and tool names."""

from __future__ import annotations

from typing import Any

import pytest

from agent_security.adapters.hooks.facts import parse_mcp_name, resolve_path, tool_call_facts


def test_bash_and_powershell_are_shell_calls_with_a_command() -> None:
    for name in ("Bash", "PowerShell"):
        facts = tool_call_facts(name, {"command": "git status", "timeout": 5}, cwd="/p")
        assert facts.action_type == "shell" and facts.tool_args["command"] == "git status"
    other = tool_call_facts("run_terminal_cmd", {"cmd": "ls"})
    assert other.action_type == "shell" and other.tool_args["command"] == "ls"


def test_a_shell_command_that_is_not_a_string_is_passed_on_for_the_governor_to_refuse() -> None:
    facts = tool_call_facts("Bash", {"command": {"evil": True}})
    assert facts.action_type == "shell" and facts.tool_args["command"] == {"evil": True}


@pytest.mark.parametrize(
    ("tool", "args", "kind", "path"),
    [
        (
            "Write",
            {"file_path": "../.ssh/authorized_keys", "content": "k"},
            "file_write",
            "/home/u/.ssh/authorized_keys",
        ),
        ("Edit", {"file_path": "src/./a/../b.py"}, "file_write", "/home/u/p/src/b.py"),
        ("Read", {"file_path": "~/.aws/credentials"}, "file_read", "/home/u/.aws/credentials"),
        ("Grep", {"pattern": "x", "path": "/etc/../etc/shadow"}, "file_read", "/etc/shadow"),
    ],
)
def test_file_tools_get_absolute_normalised_paths(tool: str, args: dict[str, Any], kind: str, path: str) -> None:
    facts = tool_call_facts(tool, args, cwd="/home/u/p", home="/home/u")
    assert facts.action_type == kind
    arg = "file_path" if "file_path" in args else "path"
    assert facts.tool_args[arg] == path and facts.extra["paths"] == [path]


def test_paths_without_an_anchor_or_hostile_ones_are_left_as_given() -> None:
    assert resolve_path("a/b", None) == "a/b"
    assert resolve_path("a\x00b", "/p") == "a\x00b"
    assert resolve_path("x" * 5000, "/p") == "x" * 5000
    assert resolve_path("//etc/passwd", None) == "/etc/passwd"
    assert resolve_path("..\\..\\Windows\\System32", "C:\\Users\\u\\p") == "C:\\Users\\Windows\\System32"


def test_web_tools_carry_the_url_host() -> None:
    facts = tool_call_facts("WebFetch", {"url": "https://Evil.Example.com:8443/x?q=1", "prompt": "p"})
    assert facts.action_type == "http_request" and facts.extra["url_host"] == "evil.example.com"
    assert facts.tool_args["url"].startswith("https://")
    assert tool_call_facts("WebFetch", {"url": 17}).extra == {}
    assert tool_call_facts("WebSearch", {"query": "q"}).action_type == "web_search"


def test_mcp_names_give_server_tool_and_identity() -> None:
    facts = tool_call_facts("mcp__github__create_issue", {"title": "t"})
    assert facts.mcp is not None and (facts.mcp.server, facts.mcp.tool) == ("github", "create_issue")
    assert facts.check_fields()["tool_identity"] == {"tool_name": "github/create_issue", "provider": "mcp"}
    assert facts.tool_name == "mcp__github__create_issue"
    plugin = parse_mcp_name("mcp__plugin_acme_github__list_prs")
    assert plugin is not None and plugin.server == "plugin_acme_github" and plugin.plugin == "acme"
    assert plugin.tool == "list_prs"
    assert parse_mcp_name("mcp__server") is None and parse_mcp_name("mcp____x") is None
    assert parse_mcp_name("mcp__" + "a" * 5000 + "__t") is None
    assert tool_call_facts("mcp__server", {}).mcp is None


def test_the_hosts_arguments_are_not_changed_in_place() -> None:
    args = {"file_path": "a.py"}
    tool_call_facts("Write", args, cwd="/p")
    assert args == {"file_path": "a.py"}


def test_every_hosts_tool_names_map_to_the_same_kinds() -> None:
    for name in ("Bash", "Shell", "bash", "PowerShell", "run_terminal_cmd"):
        assert tool_call_facts(name, {"command": "ls"}).action_type == "shell", name
    for name in ("Read", "view", "read_file", "Grep", "Glob"):
        assert tool_call_facts(name, {"path": "a"}).action_type == "file_read", name
    for name in ("Write", "create", "Edit", "str_replace", "Delete", "edit-file"):
        assert tool_call_facts(name, {"path": "a"}).action_type == "file_write", name
    for name in ("WebFetch", "web_fetch", "fetch"):
        assert tool_call_facts(name, {"url": "https://x.example"}).action_type == "http_request", name


def test_a_one_file_tool_gets_its_path_as_file_path_a_search_does_not() -> None:
    created = tool_call_facts("create", {"path": "a.py"}, cwd="/p")
    assert created.tool_args == {"path": "/p/a.py", "file_path": "/p/a.py"}
    notebook = tool_call_facts("NotebookEdit", {"notebook_path": "n.ipynb"}, cwd="/p")
    assert notebook.tool_args["file_path"] == "/p/n.ipynb"
    assert "file_path" not in tool_call_facts("Grep", {"pattern": "x", "path": "src"}, cwd="/p").tool_args


def test_an_mcp_server_named_beside_the_tool() -> None:
    named = tool_call_facts("MCP:deploy", {"a": 1}, mcp_server="prod")
    assert named.tool_name == "mcp__prod__deploy"
    assert named.check_fields()["tool_identity"] == {"tool_name": "prod/deploy", "provider": "mcp"}
    unnamed = tool_call_facts("MCP:deploy", {})
    assert unnamed.tool_name == "MCP:deploy" and unnamed.tool_identity() == {"tool_name": "deploy", "provider": "mcp"}
    assert "mcp_server" not in unnamed.extra
    forced = tool_call_facts("deploy", {}, mcp=True)
    assert forced.kind == "mcp" and forced.tool_name == "MCP:deploy"
    assert tool_call_facts("mcp__a__t", {}, mcp_server="b").tool_name == "mcp__b__t"


def test_the_subject_pairs_two_reports_of_one_call() -> None:
    assert tool_call_facts("Shell", {"command": "ls", "x": 1}).subject == tool_call_facts("bash", {"cmd": "ls"}).subject
    read = tool_call_facts("Read", {"file_path": "a/../b"}, cwd="/p").subject
    assert read == tool_call_facts("Read", {"file_path": "/p/b"}).subject == ["file_read", "/p/b"]
    assert tool_call_facts("MCP:t", {"a": 1}).subject == tool_call_facts("mcp__s__t", {"a": 1}).subject


def test_check_fields_add_the_call_and_its_context() -> None:
    facts = tool_call_facts("WebFetch", {"url": "https://x.example/a"})
    fields = facts.check_fields({"host": "h"}, agent_id="a", session_id=None)
    assert fields["agent_id"] == "a" and "session_id" not in fields
    assert fields["context"] == {"host": "h", "url_host": "x.example"}
