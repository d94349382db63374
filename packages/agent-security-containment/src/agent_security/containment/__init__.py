"""agent-security-containment.

Sandbox profiles for paths, URLs, env and processes; change control with ticket validation.

    from agent_security.containment import SandboxManager, containment_plugin

    sandboxes = SandboxManager()
    sandboxes.register_sandbox("read_file", {"read_paths": ["/srv/data"]})
    sandboxes.check_constraints("read_file", {"path": "/srv/data/../../etc/passwd"})  # allowed=False
    security = AgentSecurity(plugins=[containment_plugin(sandbox_manager=sandboxes)])
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_security.containment.constraints import Violation
    from agent_security.containment.errors import ContainmentError, SandboxUnavailable, UrlError
    from agent_security.containment.guard import ContainmentPlugin, containment_plugin
    from agent_security.containment.process import SandboxResult, backend_status
    from agent_security.containment.profiles import SandboxProfile, SandboxType
    from agent_security.containment.sandbox import ConstraintResult, SandboxManager
    from agent_security.containment.tickets import (
        ChangeControl,
        TicketCheck,
        TicketInfo,
        TicketLookupError,
        TicketValidator,
    )
    from agent_security.containment.validators import JiraValidator, ServiceNowValidator

__all__ = [
    "ChangeControl",
    "ConstraintResult",
    "ContainmentError",
    "ContainmentPlugin",
    "JiraValidator",
    "SandboxManager",
    "SandboxProfile",
    "SandboxResult",
    "SandboxType",
    "SandboxUnavailable",
    "ServiceNowValidator",
    "TicketCheck",
    "TicketInfo",
    "TicketLookupError",
    "TicketValidator",
    "UrlError",
    "Violation",
    "__version__",
    "backend_status",
    "containment_plugin",
]

_LAZY: dict[str, str] = {
    "Violation": "agent_security.containment.constraints",
    "ContainmentError": "agent_security.containment.errors",
    "SandboxUnavailable": "agent_security.containment.errors",
    "UrlError": "agent_security.containment.errors",
    "ContainmentPlugin": "agent_security.containment.guard",
    "containment_plugin": "agent_security.containment.guard",
    "SandboxResult": "agent_security.containment.process",
    "backend_status": "agent_security.containment.process",
    "SandboxProfile": "agent_security.containment.profiles",
    "SandboxType": "agent_security.containment.profiles",
    "ConstraintResult": "agent_security.containment.sandbox",
    "SandboxManager": "agent_security.containment.sandbox",
    "ChangeControl": "agent_security.containment.tickets",
    "TicketCheck": "agent_security.containment.tickets",
    "TicketInfo": "agent_security.containment.tickets",
    "TicketLookupError": "agent_security.containment.tickets",
    "TicketValidator": "agent_security.containment.tickets",
    "JiraValidator": "agent_security.containment.validators",
    "ServiceNowValidator": "agent_security.containment.validators",
}
"""Each public name and the module that defines it, imported on first use (PEP 562): installed but not
configured, the distribution loads only its plugin and configuration model."""


from agent_security.core.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, distribution="agent-security-containment")
