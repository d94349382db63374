"""agent-security-posture: inventory, risk scores, compliance reports and SIEM export (CEF, LEEF, OCSF,
syslog, CSV, OpenTelemetry).

Public names are imported on first use, so that loading the plugin (every ``AgentSecurity()``) stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    __version__: str
    from agent_security.posture.activity import TrailSummary, summarize
    from agent_security.posture.compliance import ComplianceFacts, ComplianceMapper, ComplianceReport
    from agent_security.posture.forward import Forwarder, ForwardError
    from agent_security.posture.inventory import InventoryItem, PostureInventory
    from agent_security.posture.otel import OtelLogExporter
    from agent_security.posture.report import PostureReport
    from agent_security.posture.risk import FleetRiskScore, RiskScore, RiskScorer
    from agent_security.posture.soc import AuditExporter, SocFormatter, SyslogSender, open_sender
    from agent_security.posture.trail import TrailReader, read_events

__all__ = [
    "AuditExporter",
    "ComplianceFacts",
    "ComplianceMapper",
    "ComplianceReport",
    "FleetRiskScore",
    "ForwardError",
    "Forwarder",
    "InventoryItem",
    "OtelLogExporter",
    "PostureInventory",
    "PostureReport",
    "RiskScore",
    "RiskScorer",
    "SocFormatter",
    "SyslogSender",
    "TrailReader",
    "TrailSummary",
    "__version__",
    "open_sender",
    "read_events",
    "summarize",
]

_LAZY: dict[str, str] = {
    "TrailSummary": "agent_security.posture.activity",
    "summarize": "agent_security.posture.activity",
    "ComplianceFacts": "agent_security.posture.compliance",
    "ComplianceMapper": "agent_security.posture.compliance",
    "ComplianceReport": "agent_security.posture.compliance",
    "Forwarder": "agent_security.posture.forward",
    "ForwardError": "agent_security.posture.forward",
    "InventoryItem": "agent_security.posture.inventory",
    "PostureInventory": "agent_security.posture.inventory",
    "OtelLogExporter": "agent_security.posture.otel",
    "PostureReport": "agent_security.posture.report",
    "FleetRiskScore": "agent_security.posture.risk",
    "RiskScore": "agent_security.posture.risk",
    "RiskScorer": "agent_security.posture.risk",
    "AuditExporter": "agent_security.posture.soc",
    "SocFormatter": "agent_security.posture.soc",
    "SyslogSender": "agent_security.posture.soc",
    "open_sender": "agent_security.posture.soc",
    "TrailReader": "agent_security.posture.trail",
    "read_events": "agent_security.posture.trail",
}

from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-posture")
