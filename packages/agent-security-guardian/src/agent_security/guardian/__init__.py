"""agent-security-guardian: anomaly detection over the audit stream, incidents, and an auto-kill that holds.

::

    from agent_security.core import AgentSecurity
    from agent_security.guardian import BLUEPRINT_FINANCE, GuardianAgent

    guardian = GuardianAgent(BLUEPRINT_FINANCE.with_overrides(timezone="Europe/London"))
    security = AgentSecurity(plugins=[guardian])   # or [guardian] blueprint = "finance" in the config

See :mod:`agent_security.guardian.agent` for what it reads and writes.
"""

from __future__ import annotations

from importlib import metadata

from agent_security.guardian.agent import GuardianAgent, ReviewGate
from agent_security.guardian.backlog import AnalysisFailed
from agent_security.guardian.blueprints import BLUEPRINT_ENGINEERING, BLUEPRINT_FINANCE, BLUEPRINT_SOC, BLUEPRINTS
from agent_security.guardian.config import AllowedHours, BaselineConfig, GuardianConfig, Mode, Severity
from agent_security.guardian.incidents import Action, AnomalyType, Incident

__version__ = metadata.version("agent-security-guardian")

__all__ = [
    "BLUEPRINTS",
    "BLUEPRINT_ENGINEERING",
    "BLUEPRINT_FINANCE",
    "BLUEPRINT_SOC",
    "Action",
    "AllowedHours",
    "AnalysisFailed",
    "AnomalyType",
    "BaselineConfig",
    "GuardianAgent",
    "GuardianConfig",
    "Incident",
    "Mode",
    "ReviewGate",
    "Severity",
    "__version__",
]
