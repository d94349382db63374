"""CEF, LEEF, OCSF, CSV and JSON: parsed back the way a SIEM parses them, with hostile values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_security.core.models import AuditEvent, Outcome, Reason
from agent_security.posture.activity import summarize
from agent_security.posture.compliance import ComplianceFacts, ComplianceMapper
from agent_security.posture.soc import AuditExporter, SocFormatter, compliance_findings, safe_cell, to_ocsf
from agent_security.posture.trail import TrailReader

HOSTILE = [
    "a|b=c",
    "x\\|y\\=z\\",
    "line1\nCEF:0|Evil|Evil|1|100|Injected|10|act=ALLOW",
    "cr\rlf\r\n",
    "tab\there=1\tusrName=admin",
    'quote"bracket]',
    "=cmd|' /C calc'!A0",
    "\x1b[31mansi\x00nul",
]
WHEN = datetime(2026, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)


def _event(agent: str, tool: str, reason: str, **kw: object) -> AuditEvent:
    defaults: dict[str, object] = {
        "kind": "decision",
        "timestamp": WHEN,
        "sequence": 7,
        "hash": "ab" * 32,
        "request_id": "req-1",
        "agent_id": agent,
        "tool_name": tool,
        "environment": "prod",
        "outcome": Outcome.DENY,
        "allowed": False,
        "reasons": (Reason(code="DENY_X", message=reason),),
        "plugin_source": "policy",
    }
    return AuditEvent(**(defaults | kw))


def _unescape_chars(text: str) -> list[tuple[str, bool]]:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(({"n": "\n", "r": "\r"}.get(nxt, nxt), True))
            i += 2
        else:
            out.append((text[i], False))
            i += 1
    return out


def parse_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """A strict CEF reader: seven header fields split on unescaped pipes, then key=value pairs whose keys
    start after an unescaped space and end at an unescaped '='."""
    assert "\n" not in line and "\r" not in line
    chars = _unescape_chars(line)
    header: list[str] = []
    cur: list[str] = []
    i = 0
    while len(header) < 7:
        c, escaped = chars[i]
        if c == "|" and not escaped:
            header.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    ext = chars[i:]
    eqs = [j for j, (c, e) in enumerate(ext) if c == "=" and not e]
    starts = []
    for j in eqs:
        k = j - 1
        while k >= 0 and not (ext[k][0] == " " and not ext[k][1]):
            k -= 1
        starts.append((k + 1, j))
    fields: dict[str, str] = {}
    for n, (key_start, eq) in enumerate(starts):
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(ext)
        key = "".join(c for c, _ in ext[key_start:eq])
        assert key not in fields, f"duplicate key {key}"
        fields[key] = "".join(c for c, _ in ext[eq + 1 : end])
    return header, fields


def _clean(value: str) -> str:
    """What survives in a CEF extension value: control characters other than CR/LF become spaces."""
    return "".join(" " if (ord(c) < 32 and c not in "\r\n") or ord(c) == 127 else c for c in value)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_cef_keeps_every_hostile_value_inside_its_own_field(hostile: str) -> None:
    line = SocFormatter().to_cef(_event(hostile, hostile, hostile))
    header, fields = parse_cef(line)
    assert header[0] == "CEF:0" and header[1:4] == ["agent-security", "agent-security", "0.1.0"]
    assert header[4] == "decision:DENY" and header[5] == "Tool call denied" and header[6] == "7"
    assert fields["suser"] == _clean(hostile)
    assert fields["cs1Label"] == "toolName" and fields["cs1"] == _clean(hostile)
    assert fields["msg"] == _clean(hostile)
    assert fields["act"] == "DENY" and fields["externalId"] and fields["rt"] == str(int(WHEN.timestamp() * 1000))
    assert fields["cn1"] == "7" and fields["reason"] == "DENY_X"


def test_cef_header_escapes_vendor_text_and_severities_agree() -> None:
    header, _ = parse_cef(SocFormatter().to_cef(_event("a", "t", "m")).replace("agent-security", "agent-security", 1))
    assert len(header) == 7
    from agent_security.posture.soc.cef import to_cef

    header, _ = parse_cef(to_cef(_event("a", "t", "m"), vendor="ven|dor\\x\n"))
    assert header[1] == "ven|dor\\x "
    allow = _event("a", "t", "ok", outcome=Outcome.ALLOW, allowed=True)
    step = _event("a", "t", "m", outcome=Outcome.STEP_UP, allowed=False)
    kill = _event("a", "t", "m", reasons=(Reason(code="AGENT_KILL_SWITCH", message="x"),))
    fmt = SocFormatter()
    assert [parse_cef(fmt.to_cef(e))[0][6] for e in (allow, step, kill)] == ["1", "4", "10"]
    assert [json.loads(fmt.to_json(e))["severity"] for e in (allow, step, kill)] == ["low", "medium", "critical"]


def parse_leef(line: str) -> tuple[list[str], dict[str, str]]:
    """Six header fields split on unescaped pipes (escapes apply to the header only), then tab-separated
    key=value attributes (LEEF has no escaping inside values)."""
    assert "\n" not in line and "\r" not in line
    header: list[str] = []
    cur: list[str] = []
    i = 0
    while len(header) < 6:
        c = line[i]
        if c == "\\":
            cur.append(line[i + 1])
            i += 2
            continue
        if c == "|":
            header.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    assert header[5] == "x09"
    fields: dict[str, str] = {}
    for pair in line[i:].split("\t"):
        key, _, value = pair.partition("=")
        assert key not in fields
        fields[key] = value
    return header, fields


@pytest.mark.parametrize("hostile", HOSTILE)
def test_leef_keeps_every_hostile_value_inside_its_own_attribute(hostile: str) -> None:
    line = SocFormatter().to_leef(_event(hostile, hostile, hostile))
    header, fields = parse_leef(line)
    assert header[:5] == ["LEEF:2.0", "agent-security", "agent-security", "0.1.0", "decision:DENY"]
    spaced = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in hostile)
    assert fields["usrName"] == spaced and fields["resource"] == spaced and fields["msg"] == spaced
    assert fields["devTime"] == "2026-06-01T12:00:00.123Z" and fields["sev"] == "7"
    assert set(fields) >= {"cat", "action", "reason", "requestId", "eventId", "sequence", "eventHash"}


def test_csv_is_quoted_and_safe_against_formulas() -> None:
    events = [_event(h, h, h) for h in HOSTILE]
    text = AuditExporter().export_csv(events)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["event_id", "timestamp", "sequence"] and len(rows) == len(HOSTILE) + 1
    for hostile, row in zip(HOSTILE, rows[1:], strict=True):
        assert row[5] == safe_cell(hostile)  # agent_id round-trips through a CSV reader
        for cell in row:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "|", "%"))
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("  @SUM(A1)") == "'  @SUM(A1)" and safe_cell("\uff1dx")[0] == "'"
    assert safe_cell("plain") == "plain"


def test_the_exporter_writes_every_format(standard_trail: Path) -> None:
    events = list(TrailReader(standard_trail).events())
    exporter = AuditExporter()
    for fmt in ("cef", "leef", "ocsf", "syslog", "jsonl"):
        out = io.StringIO()
        assert exporter.write(events, fmt, out) == len(events)
        assert out.getvalue().count("\n") == len(events)
    out = io.StringIO()
    assert exporter.write(events, "json", out) == len(events)
    assert [e["event_id"] for e in json.loads(out.getvalue())] == [e.event_id for e in events]
    assert json.loads(exporter.export_json(events))[0]["sequence"] == 1
    with pytest.raises(ValueError):
        exporter.write(events, "xml", io.StringIO())


def test_ocsf_classes_for_tool_calls_incidents_and_compliance(standard_trail: Path) -> None:
    events = list(TrailReader(standard_trail).events())
    deny = next(e for e in events if e.kind == "decision" and e.tool_name == "delete_records")
    api = to_ocsf(deny)
    assert (api["class_uid"], api["category_uid"], api["activity_id"], api["type_uid"]) == (6003, 6, 4, 600304)
    assert api["metadata"]["profiles"] == ["ai_operation"] and api["metadata"]["uid"] == deny.event_id
    assert api["actor"]["authorizations"] == [
        {
            "decision": "deny",
            "policy": {
                "name": "DENY_DELETE",
                "uid": "DENY_DELETE",
                "version": None,
                "desc": "Deleting records is not allowed",
            },
        }
    ]
    assert api["actor"]["user"]["uid"] == "rogue-bot" and api["status"] == "Failure"
    assert api["time"] == int(deny.timestamp.timestamp() * 1000) and api["severity_id"] == 4
    read = to_ocsf(next(e for e in events if e.tool_name == "query_customer_db"))
    assert (read["activity_id"], read["activity_name"], read["status_id"]) == (2, "Read", 1)
    incident = to_ocsf(next(e for e in events if e.kind == "guardian.incident"))
    assert (incident["class_uid"], incident["category_uid"], incident["type_uid"]) == (2004, 2, 200401)
    assert incident["finding_info"]["uid"] == "inc-1" and incident["severity"] == "High"
    lifecycle = to_ocsf(events[0])
    assert (lifecycle["class_uid"], lifecycle["activity_id"]) == (6003, 99)
    report = ComplianceMapper(ComplianceFacts.gather(summarize(events)), now=WHEN).generate_report("eu_ai_act")
    findings = compliance_findings(report)
    assert len(findings) == 7 and {f["class_uid"] for f in findings} == {2003}
    assert {f["compliance"]["control"] for f in findings} == {f"EU-AI-{i}" for i in range(1, 8)}
    assert all(f["compliance"]["status"] in ("Pass", "Warning", "Fail", "Not applicable") for f in findings)
    json.dumps(findings)


def test_timeline_orders_events_with_gaps() -> None:
    from datetime import timedelta

    late = _event("a", "t", "m", timestamp=WHEN + timedelta(seconds=2))
    early = _event("b", "t", "m")
    timeline = SocFormatter.create_timeline([late, early])
    assert [t.agent_id for t in timeline] == ["b", "a"]
    assert timeline[0].duration_ms is None and timeline[1].duration_ms == 2000
