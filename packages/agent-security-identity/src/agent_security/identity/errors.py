"""The errors agent-security-identity raises.

::

    AgentSecurityError (core)
    └── IdentityError
        ├── RegistryError            a registration refused (revoked id, unknown id, trust raised silently)
        │   └── RegistryFileError    a registry file that cannot be read, parsed or validated (also ValueError)
        └── TokenError               an attestation or delegation token refused (also ValueError)
            ├── TokenExpired         past its ``exp`` (or before its ``nbf``)
            └── TokenRevoked         its ``jti`` was revoked
"""

from __future__ import annotations

from agent_security.core import AgentSecurityError

__all__ = ["IdentityError", "RegistryError", "RegistryFileError", "TokenError", "TokenExpired", "TokenRevoked"]


class IdentityError(AgentSecurityError):
    """Base of every error of this distribution."""


class RegistryError(IdentityError):
    """A registry operation refused."""


class RegistryFileError(RegistryError, ValueError):
    """A registry file that cannot be read, parsed or validated."""


class TokenError(IdentityError, ValueError):
    """A token refused; ``code`` is the reason code a check reports (``ATTESTATION_INVALID``, ...)."""

    code = "TOKEN_INVALID"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TokenExpired(TokenError):
    """A token past its expiry (or not yet valid)."""


class TokenRevoked(TokenError):
    """A token whose ``jti`` was revoked."""
