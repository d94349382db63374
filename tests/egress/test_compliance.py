from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from agent_security.egress import ComplianceReporter, EgressEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ev(
    i: int,
    action: str,
    classes: tuple[str, ...],
    agent: str = "bot",
    direction: str = "outbound",
    channel: str = "email",
) -> EgressEvent:
    return EgressEvent(
        timestamp=T0 + timedelta(minutes=i),
        agent_id=agent,
        tool_name="send_email",
        channel=channel,
        direction=direction,
        destinations=("c***@e***.com",),
        classifications=classes,  # type: ignore[arg-type]
        kinds=("ssn",),
        findings=1,
        action=action,
        blocked=action == "block",
    )


def test_report_counts_flags_and_flows() -> None:
    events = [
        ev(0, "block", ("PII",)),
        ev(1, "block", ("PII", "PCI")),
        ev(2, "redact", ("PCI",)),
        ev(3, "alert", ("PII",), agent="leaky"),
        ev(4, "redact", ("SECRET",), direction="result", channel="tool_result"),
    ]
    rep = ComplianceReporter().generate_report(events, to=T0 + timedelta(days=1))
    s = rep.summary
    assert (s.total_events, s.blocked_events, s.redacted_events, s.allowed_events, s.result_events) == (5, 2, 2, 1, 1)
    assert s.classifications_detected == {"PII": 3, "PCI": 2, "SECRET": 1}
    assert s.channels_used == {"email": 4, "tool_result": 1}
    assert rep.evidence.no_pci_egress and rep.evidence.no_secrets_egress  # redacted and blocked do not count
    assert not rep.evidence.no_pii_egress
    assert [(v.agent_id, v.classification, v.action) for v in rep.evidence.violations] == [("leaky", "PII", "alert")]
    flows = {(f.agent_id, f.action): f for f in rep.data_flow_map}
    assert flows[("bot", "block")].count == 2 and set(flows[("bot", "block")].classifications) == {"PII", "PCI"}
    assert flows[("bot", "block")].blocked


def test_time_window_is_inclusive() -> None:
    events = [ev(i, "alert", ("PII",)) for i in range(5)]
    rep = ComplianceReporter().generate_report(events, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))
    assert rep.summary.total_events == 3


def test_exports_are_well_formed_and_formula_safe() -> None:
    events = [ev(0, "alert", ("PII",), agent='=HYPERLINK("http://x","a,b")'), ev(1, "allow", ("PCI",), agent="ok\nbot")]
    rep = ComplianceReporter().generate_report(events, to=T0 + timedelta(days=1))
    data = json.loads(ComplianceReporter.export_json(rep))
    assert data["summary"]["total_events"] == 2
    rows = list(csv.reader(io.StringIO(ComplianceReporter.export_csv(rep))))
    assert rows[0][:2] == ["timestamp", "agent_id"]
    assert rows[1][1] == "'" + '=HYPERLINK("http://x","a,b")' and len(rows[1]) == 7
    assert rows[2][1] == "ok\nbot"
