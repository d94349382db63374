"""Compliance reports with evidence from the audit trail (see :mod:`.mapper`)."""

from __future__ import annotations

from agent_security.posture.compliance.facts import ComplianceFacts, Evidence
from agent_security.posture.compliance.mapper import (
    FRAMEWORKS,
    ComplianceControl,
    ComplianceMapper,
    ComplianceReport,
)

__all__ = ["FRAMEWORKS", "ComplianceControl", "ComplianceFacts", "ComplianceMapper", "ComplianceReport", "Evidence"]
