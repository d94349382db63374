"""agent-security-identity.

Agent and tool registries, trust levels earned from signed attestations, delegation chains. Identity
comes from the registry, never from the caller::

    from agent_security.core import AgentSecurity
    from agent_security.identity import AgentRegistry, identity_enforcer

    agents = AgentRegistry()
    agents.register(agent_id="finance-bot", trust_level="privileged", roles=["finance.writer"])
    security = AgentSecurity(policy_path="policy.yaml", plugins=[identity_enforcer(agent_registry=agents)])
"""

from __future__ import annotations

from agent_security.core.lazy import lazy_exports
from agent_security.identity.attestation import (
    Attestation,
    Issuer,
    JtiRevocations,
    TokenVerifier,
    issue_attestation,
    load_private_key,
    load_public_key,
    public_key_pem,
)
from agent_security.identity.config import IdentityConfig, IssuerConfig
from agent_security.identity.delegation import DelegationError, VerifiedChain, issue_delegation, verify_chain
from agent_security.identity.enforcer import IdentityEnforcer, identity_enforcer
from agent_security.identity.errors import (
    IdentityError,
    RegistryError,
    RegistryFileError,
    TokenError,
    TokenExpired,
    TokenRevoked,
)
from agent_security.identity.registry import AgentRecord, AgentRegistry
from agent_security.identity.tools import ToolRecord, ToolRegistry, compute_hash
from agent_security.identity.trust import TrustEvaluator, TrustResult

__all__ = [
    "AgentRecord",
    "AgentRegistry",
    "Attestation",
    "DelegationError",
    "IdentityConfig",
    "IdentityEnforcer",
    "IdentityError",
    "Issuer",
    "IssuerConfig",
    "JtiRevocations",
    "RegistryError",
    "RegistryFileError",
    "TokenError",
    "TokenExpired",
    "TokenRevoked",
    "TokenVerifier",
    "ToolRecord",
    "ToolRegistry",
    "TrustEvaluator",
    "TrustResult",
    "VerifiedChain",
    "__version__",
    "compute_hash",
    "identity_enforcer",
    "issue_attestation",
    "issue_delegation",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
    "verify_chain",
]

__getattr__, __dir__ = lazy_exports(__name__, {}, distribution="agent-security-identity")
