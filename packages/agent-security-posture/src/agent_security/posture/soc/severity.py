"""One severity scale for every SIEM format, so CEF, LEEF, syslog, OCSF and JSON agree on an event.

The original gave STEP_UP and REQUIRE_TICKET severity 4 in CEF but the label ``info`` in JSON; here each
event has one number (CEF's 0-10), and the other scales are derived from it.
"""

from __future__ import annotations

from agent_security.core.models import APPROVAL_LIKE, AuditEvent, Outcome

__all__ = ["cef_severity", "label", "ocsf_severity_id", "syslog_severity"]

_KILL_CODES = frozenset({"AGENT_KILL_SWITCH", "GLOBAL_KILL_SWITCH"})
_INCIDENT = {"low": 3, "medium": 5, "high": 8, "critical": 10}


def cef_severity(event: AuditEvent) -> int:
    """0-10: a kill 10, a rate limit 6, a denial 7, an approval-like outcome 4, an allow 1; guardian
    incidents by their severity; kill-switch operations 9; other events 3."""
    codes = {r.code for r in event.reasons}
    if event.kind.startswith("guardian."):
        severity = event.data.get("severity")
        return _INCIDENT.get(severity, 5) if isinstance(severity, str) else 5
    if event.kind in ("kill_switch.kill", "kill_switch.kill_all"):
        return 9
    if codes & _KILL_CODES:
        return 10
    if event.outcome is Outcome.DENY:
        return 6 if any(c.startswith("RATE_LIMIT") for c in codes) else 7
    if event.outcome in APPROVAL_LIKE:
        return 4
    if event.outcome is Outcome.ALLOW:
        return 1
    if event.kind == "error":
        return 5
    return 3


def label(event: AuditEvent) -> str:
    """``critical`` (9-10), ``high`` (7-8), ``medium`` (4-6), ``low`` (0-3)."""
    n = cef_severity(event)
    return "critical" if n >= 9 else "high" if n >= 7 else "medium" if n >= 4 else "low"


def ocsf_severity_id(event: AuditEvent) -> int:
    """OCSF ``severity_id``: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical."""
    n = cef_severity(event)
    return 5 if n >= 9 else 4 if n >= 7 else 3 if n >= 4 else 2 if n >= 2 else 1


def syslog_severity(event: AuditEvent) -> int:
    """RFC 5424 severity: 2 critical, 4 warning, 5 notice, 6 informational."""
    n = cef_severity(event)
    return 2 if n >= 9 else 4 if n >= 6 else 5 if n >= 4 else 6
