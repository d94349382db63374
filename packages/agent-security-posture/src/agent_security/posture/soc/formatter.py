"""``SocFormatter`` and ``AuditExporter``: an audit event in every format a SOC reads.

``SocFormatter().to_cef(event)`` / ``to_leef`` / ``to_json`` / ``to_ocsf`` / ``to_syslog`` and
``create_timeline(events)``, as in the original, with the original's weaknesses fixed (escaping, one
severity scale). ``AuditExporter`` writes many events: JSON, JSON Lines, CSV (quoted by the ``csv`` module,
every cell that a spreadsheet would read as a formula prefixed with ``'``), and any line format above.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from agent_security.core.models import AuditEvent
from agent_security.posture.soc.cef import to_cef, to_leef
from agent_security.posture.soc.ocsf import to_ocsf
from agent_security.posture.soc.severity import label
from agent_security.posture.soc.syslog import format_syslog

__all__ = ["CSV_COLUMNS", "EXPORT_FORMATS", "AuditExporter", "SocFormatter", "TimelineEntry", "safe_cell"]

ExportFormat = Literal["cef", "leef", "ocsf", "syslog", "jsonl", "csv", "json"]
EXPORT_FORMATS: tuple[str, ...] = ("cef", "leef", "ocsf", "syslog", "jsonl", "csv", "json")
CSV_COLUMNS = (
    "event_id",
    "timestamp",
    "sequence",
    "kind",
    "request_id",
    "agent_id",
    "tool_name",
    "environment",
    "outcome",
    "allowed",
    "reason_codes",
    "reasons",
    "plugin_source",
    "mode",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet will not evaluate: one that starts (after spaces) with ``=``,
    ``+``, ``-``, ``@``, a tab, a line break, ``|``, ``%`` or the full-width forms of ``= + - @`` gets a
    leading ``'``."""
    return "'" + value if value.lstrip(" ").startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class TimelineEntry:
    timestamp: datetime
    agent_id: str | None
    action: str | None
    outcome: str | None
    duration_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp.isoformat(),
            "agent_id": self.agent_id,
            "action": self.action,
            "outcome": self.outcome,
            "duration_ms": self.duration_ms,
        }


class SocFormatter:
    """One event in one format. ``hostname``, ``app_name`` and ``enterprise`` shape syslog messages."""

    def __init__(
        self, *, hostname: str | None = None, app_name: str = "agent-security", enterprise: int = 32473
    ) -> None:
        self.hostname, self.app_name, self.enterprise = hostname, app_name, enterprise

    def to_cef(self, event: AuditEvent) -> str:
        return to_cef(event)

    def to_leef(self, event: AuditEvent) -> str:
        return to_leef(event)

    def to_ocsf(self, event: AuditEvent) -> dict[str, Any]:
        return to_ocsf(event)

    def to_syslog(self, event: AuditEvent, *, payload: Literal["json", "cef"] = "json") -> str:
        return format_syslog(
            event, hostname=self.hostname, app_name=self.app_name, enterprise=self.enterprise, payload=payload
        )

    def to_json(self, event: AuditEvent) -> str:
        """The original's flat JSON (``source``, ``event_type``, ...), with the one severity scale."""
        return json.dumps(
            {
                "source": "agent-security",
                "event_type": "security_decision" if event.kind == "decision" else event.kind,
                "event_id": event.event_id,
                "timestamp": event.timestamp.isoformat(),
                "agent_id": event.agent_id,
                "tool_name": event.tool_name,
                "outcome": event.outcome.value if event.outcome is not None else None,
                "reasons": [r.model_dump() for r in event.reasons],
                "request_id": event.request_id,
                "plugin_source": event.plugin_source,
                "severity": label(event),
            }
        )

    def format(self, event: AuditEvent, fmt: str) -> str:
        """One line of ``fmt`` (``cef``, ``leef``, ``ocsf``, ``syslog``, ``jsonl``)."""
        if fmt == "cef":
            return self.to_cef(event)
        if fmt == "leef":
            return self.to_leef(event)
        if fmt == "ocsf":
            return json.dumps(self.to_ocsf(event), separators=(",", ":"))
        if fmt == "syslog":
            return self.to_syslog(event)
        if fmt == "jsonl":
            return event.model_dump_json()
        raise ValueError(f"unknown line format {fmt!r}")

    @staticmethod
    def create_timeline(events: Iterable[AuditEvent]) -> list[TimelineEntry]:
        """Events by time, each with the milliseconds since the one before (``None`` for the first)."""
        ordered = sorted(events, key=lambda e: e.timestamp)
        out: list[TimelineEntry] = []
        previous: datetime | None = None
        for e in ordered:
            when = e.timestamp if e.timestamp.tzinfo else e.timestamp.replace(tzinfo=UTC)
            gap = None if previous is None else (when - previous).total_seconds() * 1000
            out.append(TimelineEntry(when, e.agent_id, e.tool_name, e.outcome.value if e.outcome else None, gap))
            previous = when
        return out


def _row(event: AuditEvent) -> list[str]:
    values = [
        event.event_id,
        event.timestamp.isoformat(),
        str(event.sequence),
        event.kind,
        event.request_id or "",
        event.agent_id or "",
        event.tool_name or "",
        event.environment or "",
        event.outcome.value if event.outcome else "",
        "" if event.allowed is None else str(event.allowed).lower(),
        ",".join(r.code for r in event.reasons),
        "; ".join(r.message for r in event.reasons),
        event.plugin_source or "",
        event.mode,
        event.hash or "",
    ]
    return [safe_cell(v) for v in values]


class AuditExporter:
    """Many events in one format."""

    def __init__(self, formatter: SocFormatter | None = None) -> None:
        self.formatter = formatter or SocFormatter()

    def export_json(self, events: Iterable[AuditEvent]) -> str:
        return json.dumps([e.model_dump(mode="json") for e in events], indent=2)

    def export_csv(self, events: Iterable[AuditEvent]) -> str:
        buf = io.StringIO()
        self.write(events, "csv", buf)
        return buf.getvalue()

    def export_jsonl(self, events: Iterable[AuditEvent]) -> str:
        buf = io.StringIO()
        self.write(events, "jsonl", buf)
        return buf.getvalue()

    def lines(self, events: Iterable[AuditEvent], fmt: str) -> Iterator[str]:
        """Each event as one line of ``fmt`` (``csv`` lines start with the header)."""
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            yield buf.getvalue().rstrip("\n")
            for e in events:
                buf.seek(0)
                buf.truncate()
                writer.writerow(_row(e))
                yield buf.getvalue()[:-1]
            return
        for e in events:
            yield self.formatter.format(e, fmt)

    def write(self, events: Iterable[AuditEvent], fmt: str, out: TextIO) -> int:
        """Write ``events`` to ``out`` in ``fmt`` (streaming; ``json`` is an array). Events written."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
        n = 0
        if fmt == "json":
            out.write("[")
            for e in events:
                out.write(("," if n else "") + "\n  " + e.model_dump_json())
                n += 1
            out.write("\n]\n" if n else "]\n")
            return n
        for line in self.lines(events, fmt):
            out.write(line + "\n")
            n += 1
        return n - 1 if fmt == "csv" else n
