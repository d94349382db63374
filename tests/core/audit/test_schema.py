"""The audit event schema exported as JSON Schema: the file in docs/ is the model's schema (a golden test),
``agent-security audit schema`` prints it, and what the sinks write validates against it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from agent_security.core.audit import AuditTrail, JsonlAuditSink
from agent_security.core.audit.cli import audit_group
from agent_security.core.audit.schema import event_schema, schema_json
from agent_security.core.models import SCHEMA_VERSION, AuditEvent, Outcome, Reason

DOC = Path(__file__).parents[3] / "docs" / "audit-event.schema.json"
DATA = Path(__file__).parent / "data"


def test_the_schema_file_is_the_model_schema() -> None:
    assert DOC.read_text() == schema_json(), (
        "docs/audit-event.schema.json is not the schema of AuditEvent: if the model changed on purpose, "
        "regenerate it with `agent-security audit schema > docs/audit-event.schema.json` (and bump "
        "SCHEMA_VERSION in models.py when the change is not backwards compatible)"
    )


def test_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(audit_group, ["schema"])
    assert result.exit_code == 0 and result.output == schema_json()


def test_schema_is_versioned_and_valid() -> None:
    schema = event_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["x-schema-version"] == SCHEMA_VERSION and schema["$id"].endswith(SCHEMA_VERSION)
    assert set(schema["required"]) == set(AuditEvent.model_fields)


def test_what_the_sinks_write_validates(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(event_schema(), format_checker=jsonschema.FormatChecker())
    path = tmp_path / "t.jsonl"
    sink = JsonlAuditSink(path)
    trail = AuditTrail.open(sink.agent_security_audit_event, [sink])
    trail.record(AuditEvent(outcome=Outcome.DENY, allowed=False, reasons=(Reason(code="X"),), data={"a": [1]}))
    trail.record(AuditEvent(kind="guardian.incident", data={"score": 0.5}))
    sink.close()
    lines = [*path.read_text().splitlines(), *(DATA / "trail-v0.1.jsonl").read_text().splitlines()]
    for line in lines:
        validator.validate(json.loads(line))
    bad = json.loads(lines[0])
    for change in ({"kind": "Not A Kind"}, {"sequence": "1"}, {"extra": 1}, {"schema_version": "2.0"}):
        assert not validator.is_valid({**bad, **change}), change
    missing = dict(bad)
    del missing["hash"]
    assert not validator.is_valid(missing)
