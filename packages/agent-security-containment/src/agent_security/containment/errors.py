"""The errors agent-security-containment raises.

::

    AgentSecurityError (core)
    └── ContainmentError
        ├── SandboxUnavailable       no process sandbox can be built (or for this profile): nothing was run
        ├── TicketLookupError        the ticket system could not be asked or answered unreadably (a denial)
        └── UrlError                 a URL or host that cannot be read unambiguously (also ValueError)

A malformed command given to ``SandboxManager.run`` is a plain ``ValueError``; a profile that does not
validate is pydantic's ``ValidationError``.
"""

from __future__ import annotations

from agent_security.core import AgentSecurityError

__all__ = ["ContainmentError", "SandboxUnavailable", "TicketLookupError", "UrlError"]


class ContainmentError(AgentSecurityError):
    """Base of every error of this distribution."""


class SandboxUnavailable(ContainmentError):
    """No sandbox can be built on this machine (or for this profile): the command was not run."""


class TicketLookupError(ContainmentError):
    """The ticket system could not be asked or gave an answer that cannot be read (a denial)."""


class UrlError(ContainmentError, ValueError):
    """A URL or host that cannot be read unambiguously (judged as a violation)."""
