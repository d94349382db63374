"""Attestations: signed agent credentials from configured issuers (EdDSA JWTs, verified with PyJWT).

An attestation is a JWT in compact JWS form, signed with Ed25519 (``alg`` ``EdDSA``) by an issuer the
configuration names. Its claims::

    {"iss": "<issuer>", "sub": "<agent id>", "aud": "<audience>", "kind": "agent-attestation",
     "iat": ..., "nbf": ... (optional), "exp": ..., "jti": "<unique id>", "trust": "verified" (optional)}

A valid one earns its subject the issuer's ``grants`` level (default ``verified``; a ``trust`` claim may
ask for less, never more). Verification:

* the header's ``alg`` must be ``EdDSA`` (the algorithm is pinned: ``none``, HMAC and RSA tokens are
  refused before any key is touched, so no key confusion is possible), ``kid`` picks one of the
  issuer's keys (several keys per issuer: rotation), and a header naming a key or a place to fetch one
  (``jku``, ``x5u``, ``jwk``, ``x5c``) or critical extensions (``crit``) is refused: keys come from the
  configuration only, never from a URL or a key inside the token;
* the signature, the issuer and the audience are checked by PyJWT; expiry, not-before and the
  lifetime (``exp - iat`` at most the issuer's ``max_ttl_s``) against the check's own clock (the
  host's injectable clock), with ``leeway_s`` of tolerance;
* ``jti`` must not be revoked (:class:`JtiRevocations`, behind the core store: a fleet shares it).

Delegation tokens (:mod:`agent_security.identity.delegation`) are verified by the same code with kind
``agent-delegation``; an attestation can never pass as a delegation or the reverse.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from agent_security.core.files import MAX_KEY_FILE_BYTES, UnreadableFile, read_bounded
from agent_security.core.models import TrustLevel, trust_rank
from agent_security.core.normalize import canonical_agent_id
from agent_security.core.store import Store
from agent_security.identity._table import StoredTable
from agent_security.identity.errors import TokenError, TokenExpired, TokenRevoked

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# PyJWT and cryptography's key classes are imported where a key or token is handled, not with this module:
# every check imports it, and a deployment with no issuer configured never handles a token.

__all__ = [
    "ALGORITHM",
    "ATTESTATION_KIND",
    "DELEGATION_KIND",
    "MAX_TOKEN_CHARS",
    "Attestation",
    "Issuer",
    "JtiRevocations",
    "TokenVerifier",
    "issue_attestation",
    "load_private_key",
    "load_public_key",
    "public_key_pem",
]

ALGORITHM = "EdDSA"
ATTESTATION_KIND = "agent-attestation"
DELEGATION_KIND = "agent-delegation"
MAX_TOKEN_CHARS = 8192
_FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit")


def load_public_key(source: str | os.PathLike[str] | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file path, or PEM text/bytes (``-----BEGIN PUBLIC KEY-----``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        if isinstance(source, bytes):
            data = source
        elif isinstance(source, str) and "-----BEGIN" in source:
            data = source.encode("ascii")
        else:
            data = read_bounded(source, MAX_KEY_FILE_BYTES, what="public key file")
        key = serialization.load_pem_public_key(data)
    except (UnreadableFile, OSError, ValueError, TypeError) as exc:
        raise TokenError(f"cannot load an Ed25519 public key: {exc}", code="KEY_INVALID") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise TokenError("the key is not an Ed25519 public key", code="KEY_INVALID")
    return key


def load_private_key(source: str | os.PathLike[str] | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key (PKCS#8 PEM, unencrypted) from a file path or PEM text/bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        if isinstance(source, bytes):
            data = source
        elif isinstance(source, str) and "-----BEGIN" in source:
            data = source.encode("ascii")
        else:
            data = read_bounded(source, MAX_KEY_FILE_BYTES, what="private key file")
        key = serialization.load_pem_private_key(data, password=None)
    except (UnreadableFile, OSError, ValueError, TypeError) as exc:
        raise TokenError(f"cannot load an Ed25519 private key: {exc}", code="KEY_INVALID") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TokenError("the key is not an Ed25519 private key", code="KEY_INVALID")
    return key


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The PEM (SubjectPublicKeyInfo) of a public key, or of a private key's public half."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class Issuer:
    """A configured issuer: its name (the ``iss`` claim), its public keys by key id (several during a
    rotation), the most trust its attestations earn, whether it may sign delegation hops, and the
    longest lifetime it may give a token."""

    name: str
    keys: Mapping[str, Ed25519PublicKey]
    grants: TrustLevel = TrustLevel.VERIFIED
    may_delegate: bool = False
    max_ttl_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError(f"issuer {self.name!r} has no keys")


class _JtiRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jti: str
    exp: float | None = None
    reason: str = ""

    @property
    def key(self) -> str:
        return self.jti


class JtiRevocations:
    """Revoked token ids, behind the core store (each kept until its token would have expired)."""

    def __init__(self, *, store: Store | None = None, refresh_s: float = 1.0) -> None:
        self._table: StoredTable[_JtiRecord] = StoredTable(
            "jti", _JtiRecord.model_validate, store=store, refresh_s=refresh_s
        )

    def bind_store(self, store: Store) -> None:
        self._table.bind_store(store)

    def revoke(self, jti: str, *, exp: float | None = None, reason: str = "", now: float | None = None) -> None:
        """Revoke ``jti``; with ``exp`` (the token's expiry, epoch seconds) the entry is dropped a day after."""
        if not jti or len(jti) > 256:
            raise ValueError("a jti is 1-256 characters")
        ttl = None
        if exp is not None and now is not None:
            ttl = max(60.0, exp - now + 86400.0)
        self._table.put(jti, {"jti": jti, "exp": exp, "reason": reason[:256]}, ttl_s=ttl)

    def is_revoked(self, jti: str) -> bool:
        return jti in self._table.snapshot()

    def list(self) -> list[str]:
        return sorted(self._table.snapshot())


@dataclass(frozen=True)
class Attestation:
    """A verified attestation."""

    issuer: str
    subject: str
    jti: str
    issued_at: float
    expires_at: float
    grants: TrustLevel
    kid: str


@dataclass
class TokenVerifier:
    """Verifies attestation and delegation tokens against the configured issuers (see the module docs)."""

    issuers: Iterable[Issuer] = ()
    audience: str = "agent-security"
    leeway_s: float = 30.0
    revocations: JtiRevocations = field(default_factory=JtiRevocations)

    def __post_init__(self) -> None:
        self.by_name: dict[str, Issuer] = {}
        for issuer in self.issuers:
            if issuer.name in self.by_name:
                raise ValueError(f"issuer {issuer.name!r} is configured twice")
            self.by_name[issuer.name] = issuer

    # -- the shared steps -------------------------------------------------------------------------
    def header_and_issuer(self, token: Any) -> tuple[dict[str, Any], str]:
        """The token's header (checked: EdDSA, no key references) and its unverified ``iss``."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenError(f"a token is a compact JWS of at most {MAX_TOKEN_CHARS} characters")
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is malformed: {type(exc).__name__}") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError(f"the token's algorithm {str(header.get('alg'))[:32]!r} is not EdDSA")
        bad = [h for h in _FORBIDDEN_HEADERS if h in header]
        if bad:
            raise TokenError(f"the token's header names keys or extensions ({', '.join(bad)}); refused")
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise TokenError("the token has no issuer")
        return header, iss

    def decode(
        self,
        token: str,
        header: Mapping[str, Any],
        keys: Mapping[str, Ed25519PublicKey],
        iss: str,
        kind: str,
        *,
        now: float,
        max_ttl_s: float,
    ) -> dict[str, Any]:
        """The verified claims of ``token`` signed by one of ``keys`` (see the module docs)."""
        kid = header.get("kid")
        if kid is None and len(keys) == 1:
            key = next(iter(keys.values()))
        elif isinstance(kid, str) and kid in keys:
            key = keys[kid]
        else:
            raise TokenError(f"the token's key id {str(kid)[:64]!r} is not a key of {iss!r}")
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=iss,
                options={
                    "require": ["iss", "aud", "exp", "iat", "jti"],
                    "verify_exp": False,  # checked below against the check's clock
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenError("the token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is invalid: {type(exc).__name__}: {exc}"[:200]) from exc
        if claims.get("kind") != kind:
            raise TokenError(f"the token is not an {kind} token")
        times = [claims.get("exp"), claims.get("iat"), claims.get("nbf", claims.get("iat"))]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in times):
            raise TokenError("the token's exp, iat and nbf must be numbers")
        exp, iat, nbf = (float(v) for v in times if isinstance(v, int | float))
        if now > exp + self.leeway_s:
            raise TokenExpired("the token has expired")
        if now + self.leeway_s < nbf or now + self.leeway_s < iat:
            raise TokenExpired("the token is not valid yet")
        if exp - iat > max_ttl_s:
            raise TokenError(f"the token's lifetime exceeds {int(max_ttl_s)}s")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise TokenError("the token's jti must be a string of 1-256 characters")
        if self.revocations.is_revoked(jti):
            raise TokenRevoked("the token has been revoked")
        return claims

    # -- attestations -----------------------------------------------------------------------------
    def verify_attestation(self, token: Any, *, agent_id: str, now: float) -> Attestation:
        """The verified attestation of ``agent_id`` (any spelling), or :class:`TokenError` (its ``code``:
        ``ATTESTATION_INVALID``, ``ATTESTATION_EXPIRED`` or ``ATTESTATION_REVOKED``)."""
        try:
            header, iss = self.header_and_issuer(token)
            issuer = self.by_name.get(iss)
            if issuer is None:
                raise TokenError(f"the issuer {iss[:64]!r} is not configured")
            claims = self.decode(token, header, issuer.keys, iss, ATTESTATION_KIND, now=now, max_ttl_s=issuer.max_ttl_s)
            sub = claims.get("sub")
            if not isinstance(sub, str) or canonical_agent_id(sub) != canonical_agent_id(agent_id):
                raise TokenError("the attestation is for another agent")
            grants = issuer.grants
            asked = claims.get("trust")
            if asked is not None:
                try:
                    if trust_rank(asked) < trust_rank(grants):
                        grants = TrustLevel(asked)
                except ValueError as exc:
                    raise TokenError("the attestation's trust claim is not a trust level") from exc
        except TokenExpired as exc:
            raise TokenExpired(str(exc), code="ATTESTATION_EXPIRED") from exc
        except TokenRevoked as exc:
            raise TokenRevoked(str(exc), code="ATTESTATION_REVOKED") from exc
        except TokenError as exc:
            raise TokenError(str(exc), code="ATTESTATION_INVALID") from exc
        return Attestation(
            issuer=iss,
            subject=canonical_agent_id(sub),
            jti=claims["jti"],
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
            grants=grants,
            kid=str(header.get("kid", "")),
        )


def issue_attestation(
    private_key: Ed25519PrivateKey,
    *,
    issuer: str,
    agent_id: str,
    now: float,
    ttl_s: float = 3600.0,
    audience: str = "agent-security",
    kid: str | None = None,
    trust: TrustLevel | str | None = None,
    jti: str | None = None,
) -> str:
    """A signed attestation for ``agent_id`` (compact JWS), valid from ``now`` for ``ttl_s`` seconds."""
    import jwt

    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": canonical_agent_id(agent_id),
        "aud": audience,
        "kind": ATTESTATION_KIND,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now + ttl_s),
        "jti": jti or uuid.uuid4().hex,
    }
    if trust is not None:
        claims["trust"] = TrustLevel(trust).value
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers=headers)
