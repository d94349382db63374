"""``agent-security mcp proxy`` as its own process, between a real MCP SDK client (mcp 2.3, new protocol)
and a real stdio server on the SDK's low-level API (``upstream_server.py``). The old protocol, with an
mcp 1.x client, is in ``tests/adapters/frameworks/mcp1`` (``make test-mcp1``)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError, StdioServerParameters

HERE = Path(__file__).parent
UPSTREAM = HERE / "upstream_server.py"
SECRET = "sk-" + "proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"

POLICY = """
version: "1"
generated_at: "2026-01-01T00:00:00Z"
expires_at: "2099-01-01T00:00:00Z"
rules:
  - {id: DENY_DELETE, match: {tool_name: mcp__upstream-test__delete_all, environment: "*"}, outcome: DENY}
  - id: DENY_BIG_ECHO
    match: {tool_name: mcp__upstream-test__echo, environment: "*"}
    when: {contains_any: [forbidden]}
    outcome: DENY
  - {id: ALLOW_REST, match: {tool_name: "*", environment: "*"}, outcome: ALLOW}
defaults: {outcome: DENY}
"""


def proxy_argv(tmp_path: Path, *extra: str, config: Path | None = None) -> list[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    root = ["--config", str(config)] if config else []
    return [
        sys.executable,
        "-m",
        "agent_security.core.cli",
        *root,
        "mcp",
        "proxy",
        "--policy",
        str(policy),
        *extra,
        "--",
        sys.executable,
        str(UPSTREAM),
    ]


@asynccontextmanager
async def connect(argv: list[str], env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=argv[0], args=argv[1:], env={**os.environ, **(env or {})})
    async with Client(params, cache=None, read_timeout_seconds=60) as client:
        yield client


def text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "upstream.log"


def calls(log: Path) -> list[str]:
    return [line.split(" ", 1)[0] for line in log.read_text().splitlines()] if log.exists() else []


async def test_allowed_denied_listed_invalid_redacted_and_timeout(tmp_path: Path, log: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text("[adapters.mcp_proxy]\ncall_timeout_s = 1.0\n")
    async with connect(proxy_argv(tmp_path, config=config), {"UPSTREAM_LOG": str(log)}) as client:
        assert client.protocol_version == "2026-07-28"
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"echo", "add", "read_secret", "crash", "hang"}  # delete_all: policy denies it

        ok = await client.call_tool("echo", {"text": "hi"})
        assert not ok.is_error and text(ok) == "hi"

        denied = await client.call_tool("delete_all", {"scope": "prod"})
        assert denied.is_error and "DENY_DELETE" in text(denied)

        by_args = await client.call_tool("echo", {"text": "forbidden words"})
        assert by_args.is_error and "DENY_BIG_ECHO" in text(by_args)

        bad = await client.call_tool("add", {"a": 1, "b": "two"})
        assert bad.is_error and "MCP_ARGS_INVALID" in text(bad) and "inputSchema" in text(bad)
        extra = await client.call_tool("add", {"a": 1, "b": 2, "c": 3})
        assert extra.is_error and "MCP_ARGS_INVALID" in text(extra)
        good = await client.call_tool("add", {"a": 1, "b": 2})
        assert not good.is_error and text(good) == "3"

        unknown = await client.call_tool("no_such_tool", {})
        assert unknown.is_error and "MCP_TOOL_UNKNOWN" in text(unknown)

        secret = await client.call_tool("read_secret", {"name": "db"})  # egress DLP on the result
        assert not secret.is_error
        assert SECRET not in text(secret) and "value of db" in text(secret)

        hung = await client.call_tool("hang", {})  # [adapters.mcp_proxy] call_timeout_s = 1
        assert hung.is_error and "timed out" in text(hung)
    assert calls(log) == ["echo", "add", "read_secret", "hang"]  # nothing refused ever reached the server


async def test_upstream_death_is_an_error_result_not_a_pass(tmp_path: Path) -> None:
    async with connect(proxy_argv(tmp_path)) as client:
        dead = await client.call_tool("crash", {})
        assert dead.is_error and "upstream call" in text(dead)
        after = await client.call_tool("echo", {"text": "hi"})
        assert after.is_error
        with pytest.raises(MCPError):  # the listing cannot be made: a protocol error, never a stale list
            await client.list_tools()


async def test_drift_between_runs_is_refused_or_flagged(tmp_path: Path, log: Path) -> None:
    lock = tmp_path / "mcp.lock.json"
    async with connect(proxy_argv(tmp_path, "--lock", str(lock))) as client:
        assert "echo" in {t.name for t in (await client.list_tools()).tools}
    assert lock.exists()
    env = {"UPSTREAM_VARIANT": "drift", "UPSTREAM_LOG": str(log)}
    async with connect(proxy_argv(tmp_path, "--lock", str(lock)), env) as client:
        assert "echo" not in {t.name for t in (await client.list_tools()).tools}
        res = await client.call_tool("echo", {"text": "hi"})
        assert res.is_error and "MCP_TOOL_DRIFT" in text(res) and "description" in text(res)
        assert not (await client.call_tool("add", {"a": 1, "b": 1})).is_error  # the others still work
    assert calls(log) == ["add"]
    log.unlink()

    async with connect(proxy_argv(tmp_path, "--lock", str(lock), "--on-drift", "flag"), env) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["echo"].description == "Echo the text back, in full."
        res = await client.call_tool("echo", {"text": "hi"})
        assert not res.is_error
    assert calls(log) == ["echo"]


async def test_poisoned_tool_is_hidden_and_refused_on_the_legacy_protocol(tmp_path: Path, log: Path) -> None:
    env = {**os.environ, "UPSTREAM_VARIANT": "poisoned", "UPSTREAM_LOG": str(log)}
    params = StdioServerParameters(command=sys.executable, args=proxy_argv(tmp_path)[1:], env=env)
    async with Client(params, cache=None, mode="legacy", read_timeout_seconds=60) as client:
        assert client.protocol_version != "2026-07-28"
        assert "echo" not in {t.name for t in (await client.list_tools()).tools}
        res = await client.call_tool("echo", {"text": "hi"})
        assert res.is_error and "MCP_TOOL_UNSAFE" in text(res)
        denied = await client.call_tool("delete_all", {"scope": "x"})
        assert denied.is_error and "DENY_DELETE" in text(denied)
        assert text(await client.call_tool("add", {"a": 2, "b": 2})) == "4"
    assert calls(log) == ["add"]


def test_a_server_that_does_not_start_fails_the_proxy(tmp_path: Path) -> None:
    import subprocess

    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    argv = [
        sys.executable,
        "-m",
        "agent_security.core.cli",
        "mcp",
        "proxy",
        "--policy",
        str(policy),
        "--",
        str(tmp_path / "no-such-server"),
    ]
    proc = subprocess.run(argv, input=b"", capture_output=True, timeout=60)
    assert proc.returncode != 0
