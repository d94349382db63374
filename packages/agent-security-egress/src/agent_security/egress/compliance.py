"""Compliance evidence from the egress log (the original's ``ComplianceReporter``).

Differences from the original: an event whose data was *redacted* did not let the data out, so it is
not a violation (only ``alert`` and ``allow`` outcomes are); tool-result events are counted separately
from outbound ones; classifications are counted once per event; the CSV export quotes every field and
neutralises spreadsheet formulas (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
``'`` prefix), so an agent id like ``=cmd|' /C calc'!A0`` stays text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from agent_security.core.models import utcnow
from agent_security.egress.enforcer import EgressEvent

__all__ = ["ComplianceReport", "ComplianceReporter", "DataFlow", "Violation"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Violation(_M):
    timestamp: datetime
    agent_id: str
    tool_name: str
    channel: str
    classification: str
    action: str
    request_id: str | None = None


class DataFlow(_M):
    agent_id: str
    tool_name: str
    channel: str
    destination: str | None
    """Masked destination."""
    action: str
    blocked: bool
    count: int
    classifications: tuple[str, ...]


class Summary(_M):
    total_events: int
    blocked_events: int
    redacted_events: int
    allowed_events: int
    """Events whose data went out (action ``alert`` or ``allow``)."""
    result_events: int
    classifications_detected: dict[str, int]
    channels_used: dict[str, int]


class Evidence(_M):
    no_pii_egress: bool
    no_pci_egress: bool
    no_secrets_egress: bool
    violations: tuple[Violation, ...]


class ComplianceReport(_M):
    generated_at: datetime
    time_range: dict[str, datetime]
    summary: Summary
    data_flow_map: tuple[DataFlow, ...] = Field(default_factory=tuple)
    evidence: Evidence


_FLAG = {"PII": "no_pii_egress", "PCI": "no_pci_egress", "SECRET": "no_secrets_egress"}


class ComplianceReporter:
    """Builds :class:`ComplianceReport` objects and exports them as JSON or CSV."""

    def generate_report(
        self, events: Iterable[EgressEvent], from_: datetime | None = None, to: datetime | None = None
    ) -> ComplianceReport:
        start = from_ or _EPOCH
        end = to or utcnow()
        chosen = [e for e in events if start <= e.timestamp <= end]
        classes: dict[str, int] = {}
        channels: dict[str, int] = {}
        flows: dict[tuple[str, str, str, str | None, str], tuple[list[int], dict[str, None]]] = {}
        flags = {"no_pii_egress": True, "no_pci_egress": True, "no_secrets_egress": True}
        violations: list[Violation] = []
        blocked = redacted = out = results = 0
        for e in chosen:
            if e.direction == "result":
                results += 1
            if e.blocked:
                blocked += 1
            elif e.action == "redact":
                redacted += 1
            else:
                out += 1
            channels[e.channel] = channels.get(e.channel, 0) + 1
            for c in e.classifications:
                classes[c] = classes.get(c, 0) + 1
            leaked = e.direction == "outbound" and e.action in ("alert", "allow")
            if leaked:
                for c in e.classifications:
                    if c in _FLAG:
                        flags[_FLAG[c]] = False
                    violations.append(
                        Violation(
                            timestamp=e.timestamp,
                            agent_id=e.agent_id,
                            tool_name=e.tool_name,
                            channel=e.channel,
                            classification=c,
                            action=e.action,
                            request_id=e.request_id,
                        )
                    )
            key = (e.agent_id, e.tool_name, e.channel, e.destination, e.action)
            count, seen = flows.setdefault(key, ([0], {}))
            count[0] += 1
            for c in e.classifications:
                seen[c] = None
        flow_map = tuple(
            DataFlow(
                agent_id=k[0],
                tool_name=k[1],
                channel=k[2],
                destination=k[3],
                action=k[4],
                blocked=k[4] == "block",
                count=v[0][0],
                classifications=tuple(v[1]),
            )
            for k, v in flows.items()
        )
        return ComplianceReport(
            generated_at=utcnow(),
            time_range={"from": start, "to": end},
            summary=Summary(
                total_events=len(chosen),
                blocked_events=blocked,
                redacted_events=redacted,
                allowed_events=out,
                result_events=results,
                classifications_detected=classes,
                channels_used=channels,
            ),
            data_flow_map=flow_map,
            evidence=Evidence(**flags, violations=tuple(violations)),
        )

    @staticmethod
    def export_json(report: ComplianceReport) -> str:
        return json.dumps(report.model_dump(mode="json"), indent=2)

    @staticmethod
    def export_csv(report: ComplianceReport) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(["timestamp", "agent_id", "tool_name", "channel", "classification", "action", "blocked"])
        for v in report.evidence.violations:
            w.writerow(
                [
                    _cell(x)
                    for x in (
                        v.timestamp.isoformat(),
                        v.agent_id,
                        v.tool_name,
                        v.channel,
                        v.classification,
                        v.action,
                        "false",
                    )
                ]
            )
        return buf.getvalue()


def _cell(value: str) -> str:
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
