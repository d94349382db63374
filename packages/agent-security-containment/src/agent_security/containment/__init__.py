"""agent-security-containment.

Sandbox profiles for paths, URLs, env and processes; change control with ticket validation.

    from agent_security.containment import SandboxManager, containment_plugin

    sandboxes = SandboxManager()
    sandboxes.register_sandbox("read_file", {"read_paths": ["/srv/data"]})
    sandboxes.check_constraints("read_file", {"path": "/srv/data/../../etc/passwd"})  # allowed=False
    security = AgentSecurity(plugins=[containment_plugin(sandbox_manager=sandboxes)])
"""

from __future__ import annotations

from importlib import metadata

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

__version__ = metadata.version("agent-security-containment")

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
