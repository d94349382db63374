"""The Redis Streams audit sink: a fleet's events in one stream, read back in order; fail closed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from agent_security.core import AgentSecurity, Decision
from agent_security.core.audit import RedisStreamAuditSink, read_redis_stream
from agent_security.core.models import AuditEvent
from agent_security.core.testing import StaticEngine


def _config(tmp_path: Path, url: str, maxlen: int = 1_000_000) -> Path:
    path = tmp_path / "agent-security.toml"
    path.write_text(
        f'[core]\nstore_namespace = "payments"\n[core.audit]\nredis_stream = "{url}"\nredis_stream_maxlen = {maxlen}\n'
    )
    return path


def test_configured_stream_receives_every_chained_event(redis_server: Any, tmp_path: Path) -> None:
    security = AgentSecurity(
        config_path=_config(tmp_path, redis_server.url), policy_engine=StaticEngine(lambda r: Decision.allow("OK"))
    )
    for i in range(5):
        result = security.check_tool_call(tool_name=f"t{i}", agent_id="a")
        assert result.allowed, result.final_decision
    security.shutdown()
    rows = list(read_redis_stream(redis_server.url, namespace="payments"))
    assert len(rows) >= 5
    events = [AuditEvent.model_validate_json(body) for _, _, body in rows]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    for (_, fields, _), event in zip(rows, events, strict=True):
        assert fields["sequence"] == str(event.sequence) and fields["hash"] == event.hash
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]  # the process's own chain
    assert {e.tool_name for e in events if e.kind == "decision"} >= {f"t{i}" for i in range(5)}
    # Reading from a position (exclusive) returns only what came after it.
    third = rows[2][0]
    assert [r[0] for r in read_redis_stream(redis_server.url, namespace="payments", after=third)] == [
        r[0] for r in rows[3:]
    ]
    assert list(read_redis_stream(redis_server.url, namespace="other")) == []


def test_processes_of_a_fleet_aggregate_into_one_stream(redis_server: Any, tmp_path: Path) -> None:
    config = _config(tmp_path, redis_server.url)
    code = textwrap.dedent(
        """
        import sys
        from agent_security.core import AgentSecurity, Decision
        from agent_security.core.testing import StaticEngine
        s = AgentSecurity(config_path=sys.argv[1], policy_engine=StaticEngine(lambda r: Decision.allow("OK")))
        for _ in range(20):
            assert s.check_tool_call(tool_name="t", agent_id=sys.argv[2]).allowed
        s.shutdown()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(config), f"agent-{i}"]) for i in range(3)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    sink = RedisStreamAuditSink.from_url(redis_server.url, namespace="payments")
    events = list(sink.read())
    assert sink.count() == len(events)
    sink.close()
    decisions = [e for e in events if e.kind == "decision"]
    assert sorted({e.agent_id for e in decisions}) == ["agent-0", "agent-1", "agent-2"]
    assert len(decisions) == 60
    sources = {fields["source"] for _, fields, _ in read_redis_stream(redis_server.url, namespace="payments")}
    assert len(sources) == 3  # each process's chain is told apart by its source


def test_the_stream_is_bounded(redis_server: Any, tmp_path: Path) -> None:
    security = AgentSecurity(
        config_path=_config(tmp_path, redis_server.url, maxlen=10),
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
    )
    for _ in range(300):
        security.check_tool_call(tool_name="t", agent_id="a")
    security.shutdown()
    assert len(list(read_redis_stream(redis_server.url, namespace="payments"))) < 300  # trimmed (MAXLEN ~)


def test_an_unreachable_stream_fails_closed(tmp_path: Path) -> None:
    security = AgentSecurity(
        config_path=_config(tmp_path, "redis://127.0.0.1:1/0?timeout_s=0.2"),
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")),
    )
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and "AUDIT_FAILURE" in {r.code for r in result.final_decision.reasons}
    security.shutdown()


def test_a_redis_witness_keeps_every_signed_checkpoint(redis_server: Any, tmp_path: Path) -> None:
    from agent_security.core.audit import AuditSigner, verify_file
    from agent_security.core.audit.witness import read_witness

    signer = AuditSigner.generate()
    key = tmp_path / "signing.pem"
    key.write_bytes(signer.private_key_pem())
    trail = tmp_path / "trail.jsonl"
    config = tmp_path / "witnessed.toml"
    config.write_text(
        f'[core.audit]\njsonl_path = "{trail}"\nsigning_key_path = "{key}"\nsign_every = 3\n'
        f'witness = "{redis_server.url}"\n'
    )
    security = AgentSecurity(config_path=config, policy_engine=StaticEngine(lambda r: Decision.allow("OK")))
    for _ in range(10):
        assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    security.shutdown()
    records, bad = read_witness(redis_server.url)
    assert not bad and len(records) >= 3
    assert verify_file(trail, [signer.public_key], witness=records).ok
    trail.write_bytes(b"")
    assert verify_file(trail, [signer.public_key], witness=records).issue_counts.get("truncated")


def test_audit_stream_prints_the_fleets_events_as_json_lines(redis_server: Any, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from agent_security.core.audit.cli import audit_group as cli  # agent-security audit

    security = AgentSecurity(
        config_path=_config(tmp_path, redis_server.url), policy_engine=StaticEngine(lambda r: Decision.allow("OK"))
    )
    for _ in range(3):
        security.check_tool_call(tool_name="t", agent_id="a")
    security.shutdown()
    runner = CliRunner()
    out = runner.invoke(cli, ["stream", redis_server.url, "--namespace", "payments"])
    assert out.exit_code == 0, out.output
    events = [AuditEvent.model_validate_json(line) for line in out.output.splitlines()]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1)) and len(events) >= 3
    first = runner.invoke(cli, ["stream", redis_server.url, "--namespace", "payments", "--limit", "1", "--envelope"])
    (envelope,) = [json.loads(line) for line in first.output.splitlines()]
    assert envelope["event"]["sequence"] == 1 and envelope["source"] and envelope["id"]
    after = runner.invoke(cli, ["stream", redis_server.url, "--namespace", "payments", "--after", envelope["id"]])
    assert len(after.output.splitlines()) == len(events) - 1
    down = runner.invoke(cli, ["stream", "redis://127.0.0.1:1/0?timeout_s=0.2"])
    assert down.exit_code == 2 and "cannot read the audit stream" in down.output
