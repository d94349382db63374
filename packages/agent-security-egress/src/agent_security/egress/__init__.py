"""agent-security-egress: data loss prevention and egress control for agent tool calls.

``scan(value)`` finds PII, PCI data and secrets in a string or any JSON-like value; ``EgressEnforcer``
(built by the ``egress`` plugin from the ``[egress]`` config section, or by :func:`egress_enforcer`)
blocks, redacts, alerts on or allows them per channel and destination.
"""

from __future__ import annotations

from importlib import metadata

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

__version__ = metadata.version("agent-security-egress")

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
