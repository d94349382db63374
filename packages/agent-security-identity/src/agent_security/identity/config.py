"""The ``[identity]`` configuration section.

::

    [identity]
    require_registration = true              # unregistered agents: DENY AGENT_UNREGISTERED
    strict = false                           # claims that differ from the registry: DENY (else replaced, audited)
    minimum_trust_level = "basic"
    minimum_trust_by_environment = { prod = "verified" }
    unattested_max_trust_by_environment = { prod = "basic" }
    max_delegation_depth = 2
    require_tool_registration = false
    enforce_tool_permissions = false
    registry_files = ["agents.yaml"]         # agents and tools, loaded at start (YAML or JSON)
    mcp_pin_files = ["mcp-lock.json"]        # MCP tools from supply-chain pin files
    audience = "agent-security"

    [[identity.issuers]]
    name = "ops-ca"
    grants = "verified"
    keys = { "2026-01" = "keys/ops-ca-2026-01.pub.pem", "2026-07" = "keys/ops-ca-2026-07.pub.pem" }

Relative paths are read relative to the working directory of the process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from agent_security.core import SectionModel
from agent_security.core.models import TrustLevel

__all__ = ["IdentityConfig", "IssuerConfig"]


class IssuerConfig(SectionModel):
    """One attestation issuer."""

    name: str = Field(min_length=1, max_length=256)
    keys: dict[str, str] = Field(min_length=1, max_length=16)
    """Key id -> Ed25519 public key (a PEM file path, or the PEM text). Several keys: a rotation."""
    grants: TrustLevel = TrustLevel.VERIFIED
    """The trust an attestation of this issuer earns (a ``trust`` claim may ask for less)."""
    may_delegate: bool = False
    """Whether this issuer may sign delegation hops for any registered agent."""
    max_ttl_s: float = Field(default=24 * 3600.0, gt=0, le=366 * 24 * 3600.0)


class IdentityConfig(SectionModel):
    """Configuration section ``[identity]`` (see the module documentation)."""

    enabled: bool = True
    require_registration: bool = False
    """Unregistered agents are denied (``AGENT_UNREGISTERED``). Off: they run with no trust, no roles
    and no agent type (whatever they claim), so identity-aware rules never match them."""
    strict: bool = False
    """A registered agent claiming another trust level, roles, agent type, owner or environment is
    denied (``IDENTITY_MISMATCH``). Off: the claims are replaced by the registered values and audited."""
    confusable_ids: Literal["deny", "audit"] = "deny"
    """An unregistered id that looks like a registered one (Cyrillic ``\u0430`` in ``\u0430gent-7``)."""
    minimum_trust_level: TrustLevel | None = None
    minimum_trust_by_environment: dict[str, TrustLevel] = Field(default_factory=dict)
    unattested_max_trust: TrustLevel | None = None
    unattested_max_trust_by_environment: dict[str, TrustLevel] = Field(default_factory=dict)
    max_delegation_depth: int = Field(default=3, ge=0, le=16)
    unsigned_delegation: Literal["ignore", "deny"] = "ignore"
    """A ``delegation_chain`` given without signed hops: ``ignore`` (dropped, audited) or ``deny``."""
    require_tool_registration: bool = False
    tool_hash_mismatch: Literal["deny", "audit"] = "deny"
    enforce_tool_permissions: bool = False
    """A registered tool's ``permissions_required`` must all be among the agent's registered permissions."""
    registry_files: tuple[str, ...] = ()
    mcp_pin_files: tuple[str, ...] = ()
    mcp_pin_public_key: str | None = None
    """Public key (PEM file) the MCP pin files must be signed with; unsigned files are refused then."""
    issuers: tuple[IssuerConfig, ...] = ()
    audience: str = Field(default="agent-security", min_length=1, max_length=256)
    leeway_s: float = Field(default=30.0, ge=0, le=600)
    refresh_s: float = Field(default=1.0, ge=0, le=3600)
    """How stale another process's registry change may be seen (the store's version key is read at most
    this often on the check path)."""

    @field_validator("issuers")
    @classmethod
    def _unique(cls, value: tuple[IssuerConfig, ...]) -> tuple[IssuerConfig, ...]:
        names = [i.name for i in value]
        if len(names) != len(set(names)):
            raise ValueError("issuer names must be unique")
        return value
