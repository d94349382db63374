"""agent-security-egress: data loss prevention and egress control for agent tool calls.

``scan(value)`` finds PII, PCI data and secrets in a string or any JSON-like value; ``EgressEnforcer``
(built by the ``egress`` plugin from the ``[egress]`` config section, or by :func:`egress_enforcer`)
blocks, redacts, alerts on or allows them per channel and destination.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_security.egress.classifiers import DEFAULT_CLASSIFIERS, Classifier, Hit, custom_classifier
    from agent_security.egress.compliance import ComplianceReport, ComplianceReporter
    from agent_security.egress.enforcer import (
        DEFAULT_POLICY,
        DEFAULT_RESULT_ACTIONS,
        EgressEnforcer,
        EgressEvent,
        egress_enforcer,
    )
    from agent_security.egress.findings import Classification, Finding, ScanReport, mask_destination
    from agent_security.egress.policy import (
        DestinationPolicyEngine,
        DestinationRule,
        EgressPolicy,
        PolicyDecision,
        ToolChannelMapping,
    )
    from agent_security.egress.scanner import LayerView, ScanLimits, Scanner, default_scanner, redact, scan

__all__ = [
    "DEFAULT_CLASSIFIERS",
    "DEFAULT_POLICY",
    "DEFAULT_RESULT_ACTIONS",
    "Classification",
    "Classifier",
    "ComplianceReport",
    "ComplianceReporter",
    "DestinationPolicyEngine",
    "DestinationRule",
    "EgressEnforcer",
    "EgressEvent",
    "EgressPolicy",
    "Finding",
    "Hit",
    "LayerView",
    "PolicyDecision",
    "ScanLimits",
    "ScanReport",
    "Scanner",
    "ToolChannelMapping",
    "__version__",
    "custom_classifier",
    "default_scanner",
    "egress_enforcer",
    "mask_destination",
    "redact",
    "scan",
]

_LAZY: dict[str, str] = {
    "DEFAULT_CLASSIFIERS": "agent_security.egress.classifiers",
    "Classifier": "agent_security.egress.classifiers",
    "Hit": "agent_security.egress.classifiers",
    "custom_classifier": "agent_security.egress.classifiers",
    "ComplianceReport": "agent_security.egress.compliance",
    "ComplianceReporter": "agent_security.egress.compliance",
    "DEFAULT_POLICY": "agent_security.egress.enforcer",
    "DEFAULT_RESULT_ACTIONS": "agent_security.egress.enforcer",
    "EgressEnforcer": "agent_security.egress.enforcer",
    "EgressEvent": "agent_security.egress.enforcer",
    "egress_enforcer": "agent_security.egress.enforcer",
    "Classification": "agent_security.egress.findings",
    "Finding": "agent_security.egress.findings",
    "ScanReport": "agent_security.egress.findings",
    "mask_destination": "agent_security.egress.findings",
    "DestinationPolicyEngine": "agent_security.egress.policy",
    "DestinationRule": "agent_security.egress.policy",
    "EgressPolicy": "agent_security.egress.policy",
    "PolicyDecision": "agent_security.egress.policy",
    "ToolChannelMapping": "agent_security.egress.policy",
    "LayerView": "agent_security.egress.scanner",
    "ScanLimits": "agent_security.egress.scanner",
    "Scanner": "agent_security.egress.scanner",
    "default_scanner": "agent_security.egress.scanner",
    "redact": "agent_security.egress.scanner",
    "scan": "agent_security.egress.scanner",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): the plugin's check
hooks load the scanner and the enforcer, not the compliance reports."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-egress")
