"""SIEM formats: CEF, LEEF 2.0, OCSF, syslog (RFC 5424), CSV, JSON; see :mod:`.formatter`."""

from __future__ import annotations

from agent_security.posture.soc.formatter import EXPORT_FORMATS, AuditExporter, SocFormatter, safe_cell
from agent_security.posture.soc.ocsf import compliance_findings, to_ocsf
from agent_security.posture.soc.syslog import SyslogSender, format_syslog, open_sender

__all__ = [
    "EXPORT_FORMATS",
    "AuditExporter",
    "SocFormatter",
    "SyslogSender",
    "compliance_findings",
    "format_syslog",
    "open_sender",
    "safe_cell",
    "to_ocsf",
]
