"""Delegation chains: each hop a signed token, the chain verified end to end.

A hop says that ``delegator`` lets ``delegate`` act for it on the tools matching ``scope`` until
``exp``; all of it is covered by the signature. Its claims::

    {"iss": "<delegator id, or a configured issuer>", "aud": "<audience>", "kind": "agent-delegation",
     "delegator": "<agent id>", "delegate": "<agent id>", "scope": ["query_*", "send_email"],
     "iat": ..., "exp": ..., "jti": "..."}

A hop is signed by the delegator itself (``iss`` is the delegator's id and the key one of its
registered ``public_keys``) or by a configured issuer allowed to sign delegations
(``may_delegate``). The caller sends the hops root first (``context={"identity": {"delegation":
[...]}}``); the chain is accepted when

* it has at most ``max_depth`` hops (checked before any signature: the work is bounded), and no more
  than any delegator's own registered ``max_delegation_depth`` allows below it;
* every hop verifies (signature, audience, expiry, not revoked), every delegator is registered and
  not revoked;
* the hops connect (each delegate is the next hop's delegator) and end at the acting agent;
* no agent appears twice (a cycle);
* the tool being called matches every hop's scope (globs over normalised tool names; ``*`` for all).

The verified chain (delegators, root first) replaces the caller's ``delegation_chain``, and the
effective trust of the call is the lowest along it (:mod:`agent_security.identity.trust`).
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_security.core.normalize import canonical_agent_id, normalize_name
from agent_security.identity.attestation import ALGORITHM, DELEGATION_KIND, TokenVerifier, load_public_key
from agent_security.identity.errors import TokenError, TokenExpired, TokenRevoked
from agent_security.identity.registry import AgentRecord, AgentRegistry

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# PyJWT is imported where a delegation token is handled (see attestation's note).

__all__ = ["MAX_HOPS", "DelegationError", "DelegationHop", "VerifiedChain", "issue_delegation", "verify_chain"]

MAX_HOPS = 16
"""No configuration may allow more hops than this."""


class DelegationError(TokenError):
    """A delegation chain refused; ``code`` is the reason code of the DENY."""


@dataclass(frozen=True)
class DelegationHop:
    delegator: str
    delegate: str
    scope: tuple[str, ...]
    issuer: str
    jti: str
    expires_at: float


@dataclass(frozen=True)
class VerifiedChain:
    hops: tuple[DelegationHop, ...]
    delegators: tuple[AgentRecord, ...]

    @property
    def chain(self) -> tuple[str, ...]:
        """The delegators, root first (what the request's ``delegation_chain`` becomes)."""
        return tuple(h.delegator for h in self.hops)

    @property
    def depth(self) -> int:
        return len(self.hops)


def _in_scope(tool_name: str, scope: Sequence[str]) -> bool:
    name = normalize_name(tool_name)
    return any(fnmatch.fnmatchcase(name, normalize_name(pattern)) for pattern in scope)


def _hop(token: Any, verifier: TokenVerifier, registry: AgentRegistry, now: float) -> tuple[DelegationHop, AgentRecord]:
    header, iss = verifier.header_and_issuer(token)
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    delegator_id = canonical_agent_id(str(claims.get("delegator", ""))[:1024])
    if not delegator_id:
        raise DelegationError("a delegation hop names no delegator", code="DELEGATION_INVALID")
    delegator = registry.get(delegator_id)
    if delegator is None or delegator.revoked:
        state = "revoked" if delegator is not None else "not registered"
        raise DelegationError(f'delegator "{delegator_id}" is {state}', code="DELEGATION_INVALID")
    if canonical_agent_id(iss) == delegator_id and delegator.public_keys:
        keys = {kid: load_public_key(pem) for kid, pem in delegator.public_keys.items()}
        max_ttl = 24 * 3600.0
    else:
        issuer = verifier.by_name.get(iss)
        if issuer is None or not issuer.may_delegate:
            raise DelegationError(
                f"a hop of {delegator_id!r} is signed by {iss[:64]!r}, which may not sign delegations",
                code="DELEGATION_INVALID",
            )
        keys, max_ttl = dict(issuer.keys), issuer.max_ttl_s
    verified = verifier.decode(token, header, keys, iss, DELEGATION_KIND, now=now, max_ttl_s=max_ttl)
    delegate = canonical_agent_id(str(verified.get("delegate", ""))[:1024])
    scope = verified.get("scope")
    if not delegate or not isinstance(scope, list) or not all(isinstance(s, str) and len(s) <= 256 for s in scope):
        raise DelegationError(
            "a delegation hop needs a delegate and a list of scope patterns", code="DELEGATION_INVALID"
        )
    if canonical_agent_id(str(verified.get("delegator", ""))) != delegator_id:
        raise DelegationError("a delegation hop's delegator changed", code="DELEGATION_INVALID")
    hop = DelegationHop(
        delegator=delegator_id,
        delegate=delegate,
        scope=tuple(scope[:64]),
        issuer=iss,
        jti=str(verified["jti"]),
        expires_at=float(verified["exp"]),
    )
    return hop, delegator


def verify_chain(
    tokens: Sequence[Any],
    *,
    acting_agent: str,
    tool_name: str,
    verifier: TokenVerifier,
    registry: AgentRegistry,
    max_depth: int,
    now: float,
) -> VerifiedChain:
    """The verified chain of ``tokens`` (root first) ending at ``acting_agent``; :class:`DelegationError`
    otherwise (codes ``DELEGATION_DEPTH_EXCEEDED``, ``DELEGATION_INVALID``, ``DELEGATION_EXPIRED``,
    ``DELEGATION_REVOKED``, ``DELEGATION_BROKEN``, ``DELEGATION_CYCLE``, ``DELEGATION_SCOPE``)."""
    limit = min(max_depth, MAX_HOPS)
    if len(tokens) > limit:
        raise DelegationError(
            f"Delegation depth {len(tokens)} exceeds maximum {limit}", code="DELEGATION_DEPTH_EXCEEDED"
        )
    import jwt

    hops: list[DelegationHop] = []
    delegators: list[AgentRecord] = []
    for token in tokens:
        try:
            hop, delegator = _hop(token, verifier, registry, now)
        except DelegationError:
            raise
        except TokenExpired as exc:
            raise DelegationError(f"a delegation hop: {exc}", code="DELEGATION_EXPIRED") from exc
        except TokenRevoked as exc:
            raise DelegationError(f"a delegation hop: {exc}", code="DELEGATION_REVOKED") from exc
        except (TokenError, jwt.PyJWTError) as exc:
            raise DelegationError(f"a delegation hop: {exc}", code="DELEGATION_INVALID") from exc
        hops.append(hop)
        delegators.append(delegator)
    acting = canonical_agent_id(acting_agent)
    for i, hop in enumerate(hops):
        following = hops[i + 1].delegator if i + 1 < len(hops) else acting
        if hop.delegate != following:
            raise DelegationError(
                f'hop {i + 1} delegates to "{hop.delegate}", but the next in the chain is "{following}"',
                code="DELEGATION_BROKEN",
            )
    seen = [h.delegator for h in hops] + [acting]
    if len(set(seen)) != len(seen):
        raise DelegationError("the delegation chain has a cycle (an agent appears twice)", code="DELEGATION_CYCLE")
    for i, delegator in enumerate(delegators):
        own = delegator.max_delegation_depth
        below = len(hops) - i
        if own is not None and below > own:
            raise DelegationError(
                f'"{delegator.agent_id}" may delegate at most {own} level(s); the chain goes {below} below it',
                code="DELEGATION_DEPTH_EXCEEDED",
            )
    for hop in hops:
        if not _in_scope(tool_name, hop.scope):
            raise DelegationError(
                f'"{tool_name}" is outside the scope "{hop.delegator}" delegated', code="DELEGATION_SCOPE"
            )
    return VerifiedChain(hops=tuple(hops), delegators=tuple(delegators))


def issue_delegation(
    private_key: Ed25519PrivateKey,
    *,
    delegator: str,
    delegate: str,
    scope: Iterable[str],
    now: float,
    ttl_s: float = 900.0,
    issuer: str | None = None,
    audience: str = "agent-security",
    kid: str | None = None,
    jti: str | None = None,
) -> str:
    """A signed delegation hop; ``issuer`` defaults to the delegator (signing with its own key)."""
    claims: dict[str, Any] = {
        "iss": issuer or canonical_agent_id(delegator),
        "aud": audience,
        "kind": DELEGATION_KIND,
        "delegator": canonical_agent_id(delegator),
        "delegate": canonical_agent_id(delegate),
        "scope": list(scope),
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now + ttl_s),
        "jti": jti or uuid.uuid4().hex,
    }
    import jwt

    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers=headers)
