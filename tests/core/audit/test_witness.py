"""Witnesses: signed checkpoints copied outside the writer's reach, and ``audit verify --witness`` catching
a truncated tail, an emptied file and a fully recomputed chain, which the trail alone cannot show."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent_security.core import AgentSecurity
from agent_security.core.audit import AuditSigner, AuditTrail, JsonlAuditSink, verify_file
from agent_security.core.audit.witness import (
    WITNESS_FILE_NAME,
    FileWitness,
    SyslogWitness,
    WitnessSink,
    open_witness,
    read_witness,
)
from agent_security.core.errors import ConfigurationError
from agent_security.core.models import AuditEvent, Outcome

EVENTS, SIGN_EVERY = 23, 5


def _write(path: Path, signer: AuditSigner, witness: WitnessSink | None, events: list[AuditEvent]) -> None:
    sink = JsonlAuditSink(path)
    subscribers = [sink, *([witness] if witness else [])]

    def dispatch(event: AuditEvent) -> None:
        for s in subscribers:
            s.agent_security_audit_event(event)

    trail = AuditTrail.open(dispatch, [sink], signer=signer, sign_every=SIGN_EVERY)
    for event in events:
        trail.record(event)
    trail.close()
    sink.close()


def _events() -> list[AuditEvent]:
    return [AuditEvent(agent_id=f"a{i}", outcome=Outcome.DENY, allowed=False, data={"i": i}) for i in range(EVENTS)]


@pytest.fixture
def honest(tmp_path: Path, signer: AuditSigner) -> tuple[Path, Path]:
    """A signed trail and the directory witness of its checkpoints."""
    trail, witness_dir = tmp_path / "trail.jsonl", tmp_path / "witness"
    witness_dir.mkdir()
    witness = open_witness(witness_dir.as_uri())
    _write(trail, signer, witness, _events())
    witness.close()
    return trail, witness_dir


def _verify(trail: Path, signer: AuditSigner, witness: Path | None):  # type: ignore[no-untyped-def]
    records = read_witness(witness)[0] if witness is not None else None
    return verify_file(trail, [signer.public_key], witness=records)


def test_an_honest_trail_passes_with_its_witness(honest: tuple[Path, Path], signer: AuditSigner) -> None:
    trail, witness = honest
    records, bad = read_witness(witness)
    assert not bad and len(records) == EVENTS // SIGN_EVERY + 1  # every checkpoint, the final one included
    report = _verify(trail, signer, witness)
    assert report.ok, report.problems
    assert report.witnessed_through == report.last_sequence  # the final checkpoint is the last event


def test_a_truncated_tail_is_detected(honest: tuple[Path, Path], signer: AuditSigner) -> None:
    trail, witness = honest
    lines = trail.read_bytes().splitlines(keepends=True)
    trail.write_bytes(b"".join(lines[:12]))  # whole signed stretches cut: a genuine signed prefix is left
    assert _verify(trail, signer, None).ok  # the keys alone cannot tell
    report = _verify(trail, signer, witness)
    assert not report.ok and report.issue_counts.get("truncated")
    assert any("removed from its end" in p for p in report.problems)


def test_an_emptied_file_is_detected(honest: tuple[Path, Path], signer: AuditSigner) -> None:
    trail, witness = honest
    trail.write_bytes(b"")
    assert verify_file(trail).ok  # "EMPTY" alone exits 0
    report = _verify(trail, signer, witness)
    assert not report.ok and report.issue_counts.get("truncated")


def test_a_fully_recomputed_chain_is_detected(honest: tuple[Path, Path], signer: AuditSigner) -> None:
    """The writer (who holds the signing key on the host) rewrites every event, recomputes every hash and
    re-signs every checkpoint: the keys vouch for the forgery, the witness does not."""
    trail, witness = honest
    forged = [e.model_copy(update={"outcome": Outcome.ALLOW, "allowed": True}) for e in _events()]
    trail.unlink()
    _write(trail, signer, None, forged)
    assert _verify(trail, signer, None).ok  # a consistent, signed forgery
    report = _verify(trail, signer, witness)
    assert not report.ok and report.issue_counts.get("witness_mismatch")
    assert verify_file(trail, witness=read_witness(witness)[0]).issue_counts.get("witness_mismatch")  # no keys


def test_a_forged_witness_record_fails_its_signature(honest: tuple[Path, Path], signer: AuditSigner) -> None:
    trail, witness = honest
    path = witness / WITNESS_FILE_NAME
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[0]["head_hash"] = "f" * 64
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = _verify(trail, signer, witness)
    assert not report.ok and report.issue_counts.get("bad_signature")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_security.core.cli", "audit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_verify_witness_exit_codes(honest: tuple[Path, Path], signer: AuditSigner, tmp_path: Path) -> None:
    trail, witness = honest
    pub = tmp_path / "key.pub"
    pub.write_bytes(signer.public_key_pem())
    ok = _cli("verify", str(trail), "--public-key", str(pub), "--witness", str(witness))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"witnessed through sequence {EVENTS + EVENTS // SIGN_EVERY + 1}" in ok.stdout
    lines = trail.read_bytes().splitlines(keepends=True)
    trail.write_bytes(b"".join(lines[:6]))
    cut = _cli("verify", str(trail), "--witness", str(witness / WITNESS_FILE_NAME))
    assert cut.returncode == 1 and "truncated" in cut.stdout
    missing = _cli("verify", str(trail), "--witness", str(tmp_path / "nowhere.jsonl"))
    assert missing.returncode == 2 and "cannot read witness" in missing.stderr


def test_syslog_witness(tmp_path: Path, signer: AuditSigner) -> None:
    """Checkpoints sent to a syslog socket, as the daemon receives them; the log file it writes is the
    witness."""
    address = str(tmp_path / "log.sock")
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    daemon.bind(address)
    daemon.settimeout(10)
    try:
        witness = WitnessSink(SyslogWitness(address))
        trail = tmp_path / "trail.jsonl"
        _write(trail, signer, witness, _events())
        witness.close()
        messages = [daemon.recv(65536).decode() for _ in range(EVENTS // SIGN_EVERY + 1)]
    finally:
        daemon.close()
    assert all(m.startswith("<85>agent-security-audit: AGENT_SECURITY_AUDIT_CHECKPOINT {") for m in messages)
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(f"Dec  7 12:00:0{i} host {m.split('>', 1)[1]}\n" for i, m in enumerate(messages))
        + "Dec  7 12:00:09 host sshd[1]: unrelated line\n"
    )
    assert _verify(trail, signer, log).ok
    trail.write_bytes(b"")
    assert _verify(trail, signer, log).issue_counts.get("truncated")


def test_a_syslog_witness_that_cannot_send_fails_closed(tmp_path: Path, signer: AuditSigner) -> None:
    witness = WitnessSink(SyslogWitness(str(tmp_path / "no-daemon.sock")))
    out: list[AuditEvent] = []

    def dispatch(event: AuditEvent) -> None:
        out.append(event)
        witness.agent_security_audit_event(event)

    trail = AuditTrail(dispatch, signer=signer, sign_every=1)
    with pytest.raises(OSError):
        trail.record(AuditEvent())  # its checkpoint cannot be witnessed: the record fails
    witness.close()


def test_configured_witness(tmp_path: Path, signer: AuditSigner) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(signer.private_key_pem())
    witness_dir = tmp_path / "witness"
    witness_dir.mkdir()
    trail = tmp_path / "trail.jsonl"
    config = tmp_path / "agent-security.toml"
    config.write_text(
        f'[core.audit]\njsonl_path = "{trail}"\nsigning_key_path = "{key}"\nsign_every = 3\n'
        f'witness = "{witness_dir.as_uri()}"\n'
    )
    security = AgentSecurity(config_path=str(config), autoload=False)
    for _ in range(7):
        security.check_tool_call(tool_name="read_file", agent_id="a")
    security.shutdown()
    records, _ = read_witness(witness_dir)
    assert len(records) >= 3
    report = verify_file(trail, [signer.public_key], witness=records)
    assert report.ok and report.witnessed_through == report.last_sequence


def test_a_witness_needs_a_signing_key(tmp_path: Path) -> None:
    config = tmp_path / "agent-security.toml"
    config.write_text(f'[core.audit]\nwitness = "{(tmp_path / "w.jsonl").as_uri()}"\n')
    with pytest.raises(ConfigurationError, match="signing_key_path"):
        AgentSecurity(config_path=str(config), autoload=False)


@pytest.mark.parametrize("uri", ["ftp://x/y", "file://elsewhere/path", ""])
def test_witness_uri_is_checked(uri: str) -> None:
    with pytest.raises(ConfigurationError):
        open_witness(uri)


def test_file_witness_appends_one_line_per_checkpoint(tmp_path: Path) -> None:
    w = FileWitness(tmp_path / "w.jsonl")
    w.publish({"type": "agent-security.audit.checkpoint", "v": 1})
    w.publish({"type": "agent-security.audit.checkpoint", "v": 1})
    w.close()
    assert len((tmp_path / "w.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "w.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_store_witness_catches_truncation_and_a_recomputed_chain(tmp_path: Path, signer: AuditSigner) -> None:
    """The witness kept in a state store of its own (another SQLite file here; a Redis server in a fleet)."""
    url = "sqlite:///" + str(tmp_path / "elsewhere" / "witness.db").lstrip("/")
    trail = tmp_path / "trail.jsonl"
    witness = open_witness(url)
    _write(trail, signer, witness, _events())
    witness.close()
    records, bad = read_witness(url)
    assert not bad and len(records) == EVENTS // SIGN_EVERY + 1
    assert verify_file(trail, [signer.public_key], witness=records).ok
    pub = tmp_path / "key.pub"
    pub.write_bytes(signer.public_key_pem())
    assert _cli("verify", str(trail), "--public-key", str(pub), "--witness", url).returncode == 0
    forged = [e.model_copy(update={"outcome": Outcome.ALLOW, "allowed": True}) for e in _events()]
    trail.unlink()
    _write(trail, signer, None, forged)  # the writer recomputes and re-signs everything
    assert verify_file(trail, [signer.public_key]).ok
    assert verify_file(trail, [signer.public_key], witness=read_witness(url)[0]).issue_counts.get("witness_mismatch")
    assert _cli("verify", str(trail), "--public-key", str(pub), "--witness", url).returncode == 1
    trail.write_bytes(b"")
    assert verify_file(trail, [signer.public_key], witness=read_witness(url)[0]).issue_counts.get("truncated")


def test_a_store_witness_refuses_to_witness_a_checkpoint_twice(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "witness.db").lstrip("/")
    witness = open_witness(url).witness
    record = {"type": "agent-security.audit.checkpoint", "v": 1, "checkpoint_sequence": 6}
    witness.publish(record)
    with pytest.raises(RuntimeError, match="already witnessed"):  # fail closed: the record stays as it was
        witness.publish({**record, "head_hash": "rewound"})
    witness.close()
