"""A fleet's Redis audit stream (``[core.audit] redis_stream``) is read by the posture commands: the
report and the SIEM export take its URL where they take a trail file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "redis"))

from _redis_server import RedisServer

from agent_security.core import AgentSecurity, Decision
from agent_security.core.cli import build_cli
from agent_security.core.testing import StaticEngine
from agent_security.posture.report import PostureReport


@pytest.fixture
def fleet_stream(tmp_path: Path, system_program: Callable[[str], str]) -> Iterator[tuple[str, Path]]:
    """A redis-server holding the stream of two agents' checks (namespace ``payments``), and the config."""
    server = RedisServer(system_program("redis-server"), tmp_path / "redis")
    server.start()
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core]\nstore_namespace = "payments"\n[core.audit]\nredis_stream = "{server.url}"\n')
    engine = StaticEngine(
        lambda r: Decision.deny("NO_DELETE", "no") if r.action.tool_name == "delete" else Decision.allow("OK")
    )
    try:
        for agent in ("agent-a", "agent-b"):
            security = AgentSecurity(config_path=config, policy_engine=engine)
            for tool in ("read", "read", "delete"):
                security.check_tool_call(tool_name=tool, agent_id=agent)
            security.shutdown()
        yield server.url, config
    finally:
        server.stop()


def test_the_report_reads_a_fleets_stream(fleet_stream: tuple[str, Path]) -> None:
    url, _ = fleet_stream
    report = PostureReport.from_trail(url, namespace="payments", now=datetime.now(UTC))
    data = report.as_dict()
    assert data["trail"]["outcomes"].get("DENY") == 2 and data["trail"]["outcomes"].get("ALLOW") == 4
    assert {i["id"] for i in data["inventory"]["items"] if i["type"] == "agent"} == {"agent-a", "agent-b"}
    assert data["top_denied_tools"] == [{"tool_name": "delete", "denied": 2}]
    # never claimed verified: each process's chain is verified at its own trail file
    assert not data["trail"]["verified"]
    empty = PostureReport.from_trail(url, namespace="other", now=datetime.now(UTC)).as_dict()
    assert empty["trail"]["events"] == 0


def test_export_and_posture_commands_take_the_streams_url(fleet_stream: tuple[str, Path]) -> None:
    url, config = fleet_stream
    runner = CliRunner()
    out = runner.invoke(build_cli(), ["--config", str(config), "audit", "export", url, "--kind", "decision"])
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(e["agent_id"], e["tool_name"], e["outcome"]) for e in events].count(("agent-b", "delete", "DENY")) == 1
    assert len(events) == 6
    report = runner.invoke(build_cli(), ["--config", str(config), "posture", url, "--json", "-"])
    assert report.exit_code in (0, 1), report.output
    assert json.loads(report.stdout)["top_denied_tools"] == [{"tool_name": "delete", "denied": 2}]
    forward = runner.invoke(
        build_cli(), ["--config", str(config), "audit", "forward", url, "--to", "syslog://127.0.0.1:1"]
    )
    assert forward.exit_code == 2 and "audit stream" in forward.output
