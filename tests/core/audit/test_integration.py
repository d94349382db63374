"""The audit package on its own and behind AgentSecurity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent_security.core.audit import JsonlAuditSink, SqliteAuditSink, verify_file
from agent_security.core.models import Decision


def test_audit_and_builtin_do_not_import_the_sdk():
    code = (
        "import sys, agent_security.core.audit, agent_security.core.audit.cli, agent_security.core.builtin; "
        "sys.exit(1 if 'agent_security.core.sdk' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_sinks_behind_agent_security(tmp_path: Path):
    from agent_security.core import AgentSecurity, sdk
    from agent_security.core.testing import StaticEngine

    db, jl = SqliteAuditSink(tmp_path / "a.db"), JsonlAuditSink(tmp_path / "a.jsonl")
    security = AgentSecurity(
        policy_engine=StaticEngine(lambda r: Decision.allow("OK")), autoload=False, audit_sinks=[db, jl]
    )
    for i in range(5):
        assert security.check_tool_call(tool_name="t", agent_id=f"a{i}", environment="dev").allowed
    events = list(db.read())
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert [e.event_id for e in jl.read()] == [e.event_id for e in events]
    assert sum(e.kind == "decision" for e in events) == 5
    security.shutdown()
    if getattr(sdk, "audit_impl", None) is not None and sdk.audit_impl.__name__.endswith("_audit_tmp"):
        pytest.skip("the SDK still uses its temporary trail; chain verification applies once integrated")
    assert verify_file(tmp_path / "a.db").ok
    assert verify_file(tmp_path / "a.jsonl").ok
