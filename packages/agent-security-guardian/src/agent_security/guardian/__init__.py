"""agent-security-guardian: anomaly detection over the audit stream, incidents, and an auto-kill that holds.

::

    from agent_security.core import AgentSecurity
    from agent_security.guardian import BLUEPRINT_FINANCE, GuardianAgent

    guardian = GuardianAgent(BLUEPRINT_FINANCE.with_overrides(timezone="Europe/London"))
    security = AgentSecurity(plugins=[guardian])   # or [guardian] blueprint = "finance" in the config

See :mod:`agent_security.guardian.agent` for what it reads and writes.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_security.guardian.agent import GuardianAgent, ReviewGate
    from agent_security.guardian.backlog import AnalysisFailed
    from agent_security.guardian.blueprints import BLUEPRINT_ENGINEERING, BLUEPRINT_FINANCE, BLUEPRINT_SOC, BLUEPRINTS
    from agent_security.guardian.config import AllowedHours, BaselineConfig, GuardianConfig, Mode, Severity
    from agent_security.guardian.incidents import Action, AnomalyType, Incident

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

_LAZY: dict[str, str] = {
    "GuardianAgent": "agent_security.guardian.agent",
    "ReviewGate": "agent_security.guardian.agent",
    "AnalysisFailed": "agent_security.guardian.backlog",
    "BLUEPRINTS": "agent_security.guardian.blueprints",
    "BLUEPRINT_ENGINEERING": "agent_security.guardian.blueprints",
    "BLUEPRINT_FINANCE": "agent_security.guardian.blueprints",
    "BLUEPRINT_SOC": "agent_security.guardian.blueprints",
    "AllowedHours": "agent_security.guardian.config",
    "BaselineConfig": "agent_security.guardian.config",
    "GuardianConfig": "agent_security.guardian.config",
    "Mode": "agent_security.guardian.config",
    "Severity": "agent_security.guardian.config",
    "Action": "agent_security.guardian.incidents",
    "AnomalyType": "agent_security.guardian.incidents",
    "Incident": "agent_security.guardian.incidents",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): installed without a
[guardian] section, the distribution loads only its plugin and configuration model."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-guardian")
