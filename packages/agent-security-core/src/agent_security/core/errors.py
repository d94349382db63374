"""Exceptions raised by agent-security.

The hierarchy::

    AgentSecurityError
    ├── ConfigurationError (also ValueError)      a usage or operator mistake: bad config, bad option
    │   └── ConfigFileError                       names the file, the section and the field
    ├── PolicyError (also ValueError)             a policy bundle that cannot be loaded
    │   ├── PolicyLoadError                       names the rule id and the field where possible
    │   ├── PolicySignatureError                  missing, malformed or invalid signature
    │   └── PolicyRollbackError                   a reload older than the active bundle
    ├── PluginError
    │   ├── PluginLoadError                       an entry point that cannot be imported or registered
    │   └── PluginContractError                   a plugin broke the hook contract
    ├── AuditIntegrityError                       an audit trail that fails verification
    ├── AuditWriteError                           the trail refused an event (a fail-closed sink failed)
    ├── StoreError                                the state store cannot do what was asked
    │   ├── StoreFull                             a key that must not be lost cannot be kept
    │   └── StoreUnavailable                      the store is down, locked or too slow
    ├── RedactedToolError                         stands in for a tool's exception whose details were redacted
    └── SecurityError                             a tool call was blocked; carries the decision

``SecurityError`` is raised only at the boundary (``protect``, ``CheckResult`` helpers); ``check_tool_call``
returns a result and never raises for a denial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_security.core.models import CheckResult, Decision

__all__ = [
    "AgentSecurityError",
    "AuditIntegrityError",
    "AuditWriteError",
    "ConfigFileError",
    "ConfigurationError",
    "PluginContractError",
    "PluginError",
    "PluginLoadError",
    "PolicyError",
    "PolicyLoadError",
    "PolicyRollbackError",
    "PolicySignatureError",
    "RedactedToolError",
    "SecurityError",
    "StoreError",
    "StoreFull",
    "StoreUnavailable",
]


class AgentSecurityError(Exception):
    """Base of every exception raised by agent-security."""


class ConfigurationError(AgentSecurityError, ValueError):
    """A usage mistake by the application developer or operator."""


class ConfigFileError(ConfigurationError):
    """A configuration file that cannot be used. ``str()`` names the file, section and field."""

    def __init__(
        self, message: str, *, path: str | None = None, section: str | None = None, field: str | None = None
    ) -> None:
        self.path = path
        self.section = section
        self.field = field
        where = ": ".join(x for x in (path, f"[{section}]" if section else None, field) if x)
        super().__init__(f"{where}: {message}" if where else message)


class PolicyError(AgentSecurityError, ValueError):
    """A policy bundle problem."""


class PolicyLoadError(PolicyError):
    """A bundle that does not parse or validate. ``rule_id`` and ``field`` locate the problem."""

    def __init__(
        self, message: str, *, rule_id: str | None = None, field: str | None = None, source: str | None = None
    ) -> None:
        self.rule_id = rule_id
        self.field = field
        self.source = source
        super().__init__(message)


class PolicySignatureError(PolicyError):
    """A bundle whose signature is required but missing, malformed, from an unknown key, or invalid."""


class PolicyRollbackError(PolicyError):
    """A reload refused because the new bundle's ``generated_at`` is older than the active bundle's."""


class PluginError(AgentSecurityError):
    """A plugin problem."""


class PluginLoadError(PluginError):
    """An entry point that could not be loaded or registered."""


class PluginContractError(PluginError):
    """A plugin returned something the hook contract does not allow."""


class AuditIntegrityError(AgentSecurityError):
    """An audit trail that does not verify. ``position`` is the 1-based line or sequence number."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)


class AuditWriteError(AgentSecurityError):
    """The audit trail could not record an event (a fail-closed sink failed, or the trail is closed)."""


class StoreError(AgentSecurityError):
    """The state store cannot do what was asked."""


class StoreFull(StoreError):
    """The store cannot take a key it must not lose (a claim) without dropping another."""


class StoreUnavailable(StoreError):
    """The store is unreachable, locked beyond its timeout, or too slow: checks fail closed
    (reason code ``STORE_UNAVAILABLE``)."""


class RedactedToolError(AgentSecurityError):
    """A tool raised an exception whose details held sensitive output, and an output check redacted it.

    Raised by ``protect()`` in place of that exception when no exception of its own type could be built
    safely with the redacted arguments. ``original_type`` is the qualified name of the tool's exception
    class; ``str()`` is its redacted message. The tool's exception itself (its traceback, attributes and
    chained exceptions) is not attached.
    """

    def __init__(self, message: str, *, original_type: str) -> None:
        self.original_type = original_type
        super().__init__(message)


class SecurityError(AgentSecurityError):
    """A tool call was blocked. ``decision`` says why; ``result`` is the full check result if any."""

    def __init__(self, message: str, decision: Decision, result: CheckResult | None = None) -> None:
        self.decision = decision
        self.result = result
        super().__init__(message)

    @property
    def codes(self) -> tuple[str, ...]:
        return self.decision.codes
