"""Audit sinks and signing configured from [core.audit], continued across restarts, verifiable."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_security.core import AgentSecurity, ConfigurationError, Decision
from agent_security.core.audit import AuditSigner, verify_file
from agent_security.core.testing import StaticEngine

ENGINE = StaticEngine(lambda r: Decision.allow("OK"))


def _security(tmp_path: Path, **audit: object) -> AgentSecurity:
    return AgentSecurity(policy_engine=ENGINE, autoload=False, config={"core": {"audit": audit}})


def test_sqlite_and_jsonl_sinks_with_signed_checkpoints(tmp_path: Path) -> None:
    signer = AuditSigner.generate()
    key = tmp_path / "audit.pem"
    key.write_bytes(signer.private_key_pem())
    db, lines = tmp_path / "audit.db", tmp_path / "audit.jsonl"
    security = _security(tmp_path, sqlite_path=str(db), jsonl_path=str(lines), signing_key_path=str(key), sign_every=5)
    for i in range(12):
        security.check_tool_call(tool_name=f"t{i}", agent_id="a")
    security.shutdown()
    for path in (db, lines):
        report = verify_file(path, public_keys=[signer.public_key_pem()])
        assert report.ok, report.issues
        assert report.verified_checkpoints >= 3 and report.unsigned_tail == 0
    wrong = verify_file(lines, public_keys=[AuditSigner.generate().public_key_pem()])
    assert not wrong.ok


def test_the_chain_continues_after_a_restart(tmp_path: Path) -> None:
    lines = tmp_path / "audit.jsonl"
    first = _security(tmp_path, jsonl_path=str(lines))
    first.check_tool_call(tool_name="t", agent_id="a")
    first.shutdown()
    second = _security(tmp_path, jsonl_path=str(lines))
    second.check_tool_call(tool_name="t", agent_id="a")
    second.shutdown()
    report = verify_file(lines)
    assert report.ok and report.first_sequence == 1 and report.events == len(lines.read_text().splitlines())


def test_sinks_holding_different_chains_refuse_to_start(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        s = _security(tmp_path, jsonl_path=str(path))
        s.check_tool_call(tool_name=f"t-{path.name}", agent_id="a")
        s.shutdown()
    from agent_security.core.audit import JsonlAuditSink

    with pytest.raises(ConfigurationError, match="different chains"):
        AgentSecurity(
            policy_engine=ENGINE,
            autoload=False,
            audit_sinks=[JsonlAuditSink(b, name="audit_b")],
            config={"core": {"audit": {"jsonl_path": str(a)}}},
        )


def test_a_failing_sink_turns_allow_into_deny(tmp_path: Path) -> None:
    class Broken:
        name = "broken_sink"

        from agent_security.core import hookimpl

        @hookimpl
        def agent_security_audit_event(self, event: object) -> None:
            raise OSError("disk full")

    security = AgentSecurity(policy_engine=ENGINE, autoload=False, audit_sinks=[Broken()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed
    assert result.final_decision.codes == ("OK", "PLUGIN_ERROR", "AUDIT_FAILURE")
