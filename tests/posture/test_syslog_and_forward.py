"""Syslog (RFC 5424) over real UDP, TCP and TLS servers, and the forwarder stopping and resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_security.core.cli import build_cli
from agent_security.core.models import AuditEvent, Outcome, Reason
from agent_security.posture.forward import Forwarder, ForwardError
from agent_security.posture.soc.syslog import format_syslog, open_sender
from agent_security.posture.trail import TrailReader

from .conftest import TrailWriter
from .syslog_servers import SyslogServer, make_certificate, parse_5424

HOSTILE = 'a"b]c\\d\n<13>1 2026-01-01T00:00:00Z forged - - - [x@1 y="z"] ALLOW'


@pytest.fixture(params=["udp", "tcp", "tls"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SyslogServer, str]]:
    transport = request.param
    if transport == "tls":
        cert, key = make_certificate(tmp_path)
        srv = SyslogServer("tls", certfile=cert, keyfile=key)
        url = f"syslog+tls://127.0.0.1:{srv.port}?ca={cert}"
    else:
        srv = SyslogServer(transport)
        url = f"syslog{'' if transport == 'udp' else '+tcp'}://127.0.0.1:{srv.port}"
    yield srv, url
    srv.close()


def _event(**kw: object) -> AuditEvent:
    base: dict[str, object] = {
        "kind": "decision",
        "timestamp": datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=UTC),
        "sequence": 3,
        "agent_id": HOSTILE,
        "tool_name": "send_email",
        "outcome": Outcome.DENY,
        "allowed": False,
        "reasons": (Reason(code="EGRESS_BLOCKED", message=HOSTILE),),
        "request_id": "r1",
        "hash": "cd" * 32,
    }
    return AuditEvent(**(base | kw))


def test_rfc5424_message_escapes_structured_data_and_bounds_header_fields() -> None:
    event = _event(kind="guardian.incident_with_a_very_long_kind_name_over_32_chars", data={"severity": "critical"})
    message = format_syslog(event, hostname="host name\nwith space", app_name="a" * 60, procid="42")
    assert "\n" not in message.split("\ufeff")[0]
    parsed = parse_5424(message)
    assert parsed["pri"] == 13 * 8 + 2  # log audit, critical
    assert parsed["timestamp"] == "2026-06-01T12:00:00.000005Z"
    assert parsed["hostname"] == "host_name_with_space" and len(parsed["app"]) == 48
    assert len(parsed["msgid"]) == 32 and parsed["procid"] == "42"
    assert parsed["sd_id"] == "agentsec@32473"
    assert parsed["params"]["agent"] == HOSTILE.replace("\n", " ")
    assert parsed["params"]["outcome"] == "DENY" and parsed["params"]["seq"] == "3"
    assert json.loads(parsed["msg"])["agent_id"] == HOSTILE  # the body is the event, JSON-escaped
    cef = parse_5424(format_syslog(_event(), hostname="h", payload="cef"))
    assert cef["msg"].startswith("CEF:0|") and parse_5424(format_syslog(_event(), hostname="h"))["pri"] == 108


def test_a_sender_delivers_to_a_real_server(server: tuple[SyslogServer, str]) -> None:
    srv, url = server
    with open_sender(url) as sender:
        for i in range(3):
            sender.send(format_syslog(_event(sequence=i + 1), hostname="h"))
    got = [parse_5424(m) for m in srv.take(3)]
    assert [g["params"]["seq"] for g in got] == ["1", "2", "3"]
    assert all(json.loads(g["msg"])["agent_id"] == HOSTILE for g in got)


def test_tls_refuses_a_server_it_cannot_verify(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    srv = SyslogServer("tls", certfile=cert, keyfile=key)
    try:
        with open_sender(f"syslog+tls://127.0.0.1:{srv.port}") as sender, pytest.raises(OSError):
            sender.send("<14>1 - - - - - - hello")  # the system store does not trust a self-signed cert
    finally:
        srv.close()


def test_bad_urls_are_refused() -> None:
    for url in ("http://x:1", "syslog://", "syslog://h:1?transport=carrier-pigeon"):
        with pytest.raises(ValueError):
            open_sender(url)


def _forward(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), ["audit", "forward", *args])
    return result.exit_code, result.output


def _seqs(messages: list[str]) -> list[int]:
    return [int(parse_5424(m)["params"]["seq"]) for m in messages]


def test_the_forwarder_stops_and_resumes_where_it_stopped(
    make_trail: Callable[..., TrailWriter], server: tuple[SyslogServer, str], tmp_path: Path
) -> None:
    srv, url = server
    writer = make_trail()
    writer.standard()
    total = len(list(TrailReader(writer.path).events()))
    state = tmp_path / "forward.json"
    code, out = _forward(str(writer.path), "--to", url, "--state", str(state), "--limit", "5")
    assert code == 0, out
    assert _seqs(srv.take(5)) == [1, 2, 3, 4, 5]
    assert json.loads(state.read_text())["position"]["sequence"] == 5
    assert (state.stat().st_mode & 0o777) == 0o600
    code, out = _forward(str(writer.path), "--to", url, "--state", str(state))
    assert code == 0, out
    assert _seqs(srv.take(total - 5)) == list(range(6, total + 1))
    writer.call("read_file", "late-bot")  # the trail grows: only the new event goes
    code, out = _forward(str(writer.path), "--to", url, "--state", str(state))
    assert code == 0 and _seqs(srv.take(1)) == [total + 1]
    code, out = _forward(str(writer.path), "--to", url, "--state", str(state))
    assert code == 0 and "0 event(s) forwarded" in out and srv.messages.empty()


def test_a_replaced_trail_is_detected_not_silently_skipped(
    make_trail: Callable[..., TrailWriter], tmp_path: Path
) -> None:
    writer = make_trail()
    writer.standard()
    writer.close()
    sent: list[int] = []
    state = tmp_path / "s.json"
    assert Forwarder(writer.path, lambda e: sent.append(e.sequence), state).run() == len(sent) > 5
    writer.path.unlink()
    again = make_trail()  # a new chain in the same file, already longer than the old position
    for _ in range(40):
        again.call("read_file", "x")
    with pytest.raises(ForwardError, match="does not continue where forwarding stopped"):
        Forwarder(again.path, lambda e: None, state).run()
    assert Forwarder(again.path, lambda e: None, state, restart=True).run() == 41
    (tmp_path / "other.jsonl").write_text("")
    with pytest.raises(ForwardError, match="belongs to"):
        Forwarder(tmp_path / "other.jsonl", lambda e: None, state)
    state.write_text("{not json")
    with pytest.raises(ForwardError, match="not valid"):
        Forwarder(again.path, lambda e: None, state)


def test_a_failed_send_keeps_the_position_of_the_last_event_sent(
    make_trail: Callable[..., TrailWriter], tmp_path: Path
) -> None:
    writer = make_trail()
    writer.standard()
    state = tmp_path / "s.json"
    calls = 0

    def flaky(event: AuditEvent) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise OSError("network down")

    with pytest.raises(OSError):
        Forwarder(writer.path, flaky, state, save_every=100).run()
    assert json.loads(state.read_text())["position"]["sequence"] == 3
    resumed: list[int] = []
    Forwarder(writer.path, lambda e: resumed.append(e.sequence), state).run()
    assert resumed[0] == 4


def test_follow_mode_stops_cleanly_on_sigterm_and_resumes(
    make_trail: Callable[..., TrailWriter], tmp_path: Path
) -> None:
    srv = SyslogServer("tcp")
    try:
        writer = make_trail("trail.db")
        writer.standard()
        total = len(list(TrailReader(writer.path).events()))
        state = tmp_path / "follow.json"
        cmd = [
            sys.executable,
            "-m",
            "agent_security.core.cli",
            "audit",
            "forward",
            str(writer.path),
            "--to",
            f"syslog+tcp://127.0.0.1:{srv.port}",
            "--state",
            str(state),
            "--follow",
            "--interval",
            "0.05",
        ]
        env = {**os.environ, "AGENT_SECURITY_STATE_DIR": str(tmp_path)}
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert _seqs(srv.take(total, timeout=60)) == list(range(1, total + 1))
            writer.call("read_file", "follow-bot")  # seen while following
            assert _seqs(srv.take(1, timeout=30)) == [total + 1]
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert f"resume after sequence {total + 1}" in err
        writer.call("read_file", "after-bot")
        code, out = _forward(str(writer.path), "--to", f"syslog+tcp://127.0.0.1:{srv.port}", "--state", str(state))
        assert code == 0, out
        assert _seqs(srv.take(1)) == [total + 2] and srv.messages.empty()
    finally:
        srv.close()


def test_an_unreachable_destination_exits_1_and_keeps_the_position(
    make_trail: Callable[..., TrailWriter], tmp_path: Path
) -> None:
    writer = make_trail()
    writer.standard()
    srv = SyslogServer("tcp")
    port = srv.port
    srv.close()  # nothing listens there any more
    code, out = _forward(
        str(writer.path), "--to", f"syslog+tcp://127.0.0.1:{port}", "--state", str(tmp_path / "s.json")
    )
    assert code == 1 and "forwarding stopped:" in out and "resumes after sequence 0" in out
    code, out = _forward(str(writer.path), "--to", "ftp://x")
    assert code == 2 and "not a syslog URL" in out
