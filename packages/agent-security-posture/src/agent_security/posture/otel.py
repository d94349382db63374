"""OpenTelemetry log export of audit events (the ``otel`` extra: ``pip install agent-security-posture[otel]``).

:class:`OtelLogExporter` turns an audit event into an OpenTelemetry log record: the event's time, a
severity from the one severity scale (:mod:`agent_security.posture.soc.severity`), the event as the JSON
body, and the searchable fields as attributes (``agent_security.agent_id``, ``.tool_name``, ``.outcome``,
``.reason_codes``, ``.event_id``, ``.sequence``, ``event.name`` = the event's kind). Records go to the
logger provider you configured (the global one by default), and from there to any OTLP collector.

It works two ways: ``exporter.export(events)`` for a trail read after the fact, or as a plugin that
receives every event live (``AgentSecurity(plugins=[OtelLogExporter()])``). Live, it is a copy of the
trail, not the trail: ``fail_open = True``, so a collector that is down never denies a tool call (the
durable file or database sink stays fail-closed).

OpenTelemetry is imported when an exporter is created, never by ``import agent_security.posture``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent
from agent_security.posture.soc.severity import syslog_severity

__all__ = ["OtelLogExporter"]

# RFC 5424 severity -> OpenTelemetry SeverityNumber (FATAL 21, ERROR 17, WARN 13, INFO 9)
_SEVERITY = {
    0: (21, "FATAL"),
    1: (21, "FATAL"),
    2: (21, "FATAL"),
    3: (17, "ERROR"),
    4: (13, "WARN"),
    5: (10, "INFO2"),
    6: (9, "INFO"),
    7: (5, "DEBUG"),
}


class OtelLogExporter:
    """See the module documentation. ``logger_provider``: an OpenTelemetry ``LoggerProvider`` (default:
    the global one)."""

    fail_open = True
    name = "audit_otel"

    def __init__(self, logger_provider: Any = None, *, logger_name: str = "agent_security.audit") -> None:
        try:
            from opentelemetry import _logs
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "OpenTelemetry export needs the otel extra: pip install 'agent-security-posture[otel]'"
            ) from exc
        self._logs = _logs
        provider = logger_provider or _logs.get_logger_provider()
        self._logger = provider.get_logger(logger_name)

    def record(self, event: AuditEvent) -> Any:
        """The OpenTelemetry ``LogRecord`` of ``event``."""
        number, text = _SEVERITY[syslog_severity(event)]
        attributes: dict[str, Any] = {
            "event.name": f"agent_security.{event.kind}",
            "agent_security.event_id": event.event_id,
            "agent_security.kind": event.kind,
            "agent_security.sequence": event.sequence,
            "agent_security.mode": event.mode,
        }
        optional = {
            "agent_security.agent_id": event.agent_id,
            "agent_security.tool_name": event.tool_name,
            "agent_security.request_id": event.request_id,
            "agent_security.environment": event.environment,
            "agent_security.outcome": event.outcome.value if event.outcome is not None else None,
            "agent_security.plugin_source": event.plugin_source,
            "agent_security.hash": event.hash,
        }
        attributes.update({k: v for k, v in optional.items() if v is not None})
        if event.reasons:
            attributes["agent_security.reason_codes"] = [r.code for r in event.reasons]
        if event.allowed is not None:
            attributes["agent_security.allowed"] = event.allowed
        return self._logs.LogRecord(
            timestamp=int(event.timestamp.timestamp() * 1_000_000_000),
            severity_number=self._logs.SeverityNumber(number),
            severity_text=text,
            body=event.model_dump_json(),
            attributes=attributes,
        )

    def export(self, events: Iterable[AuditEvent]) -> int:
        """Emit one log record per event; the number emitted."""
        n = 0
        for event in events:
            self._logger.emit(self.record(event))
            n += 1
        return n

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        self._logger.emit(self.record(event))
