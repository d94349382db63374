"""Attestations and delegation hops: EdDSA pinned, keys from configuration only, expiry on the check's clock."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.core import MemoryStore, TrustLevel
from agent_security.identity import (
    AgentRegistry,
    DelegationError,
    Issuer,
    JtiRevocations,
    TokenError,
    TokenVerifier,
    issue_attestation,
    issue_delegation,
    public_key_pem,
    verify_chain,
)

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC).timestamp()


def verifier(key: Ed25519PrivateKey, **kw: object) -> TokenVerifier:
    return TokenVerifier(issuers=[Issuer(name="ca", keys={"k1": key.public_key()}, **kw)])  # type: ignore[arg-type]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_attestation_earns_the_issuers_grant(ca_key: Ed25519PrivateKey) -> None:
    token = issue_attestation(ca_key, issuer="ca", agent_id="Bot", now=T, kid="k1")
    att = verifier(ca_key).verify_attestation(token, agent_id="bot", now=T + 10)
    assert att.subject == "bot" and att.grants is TrustLevel.VERIFIED and att.kid == "k1"
    low = issue_attestation(ca_key, issuer="ca", agent_id="bot", now=T, kid="k1", trust="basic")
    assert verifier(ca_key).verify_attestation(low, agent_id="bot", now=T).grants is TrustLevel.BASIC
    high = issue_attestation(ca_key, issuer="ca", agent_id="bot", now=T, kid="k1", trust="system")
    assert verifier(ca_key).verify_attestation(high, agent_id="bot", now=T).grants is TrustLevel.VERIFIED


def test_forged_expired_and_early_attestations_are_refused(ca_key: Ed25519PrivateKey) -> None:
    v = verifier(ca_key)
    forged = issue_attestation(Ed25519PrivateKey.generate(), issuer="ca", agent_id="bot", now=T, kid="k1")
    with pytest.raises(TokenError) as err:
        v.verify_attestation(forged, agent_id="bot", now=T)
    assert err.value.code == "ATTESTATION_INVALID"
    token = issue_attestation(ca_key, issuer="ca", agent_id="bot", now=T, ttl_s=60, kid="k1")
    with pytest.raises(TokenError) as err:
        v.verify_attestation(token, agent_id="bot", now=T + 60 + 31)
    assert err.value.code == "ATTESTATION_EXPIRED"
    v.verify_attestation(token, agent_id="bot", now=T + 60 + 29)  # within the leeway
    with pytest.raises(TokenError) as err:
        v.verify_attestation(token, agent_id="bot", now=T - 120)
    assert err.value.code == "ATTESTATION_EXPIRED"
    with pytest.raises(TokenError, match="another agent"):
        v.verify_attestation(token, agent_id="other", now=T)


def test_the_algorithm_is_pinned_and_keys_never_come_from_the_token(ca_key: Ed25519PrivateKey) -> None:
    v = verifier(ca_key)
    claims = {
        "iss": "ca",
        "sub": "bot",
        "aud": "agent-security",
        "kind": "agent-attestation",
        "iat": T,
        "exp": T + 60,
        "jti": "j",
    }
    unsigned = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    pem = public_key_pem(ca_key).encode()
    hs = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": "k1"})
    with_jku = jwt.encode(claims, ca_key, algorithm="EdDSA", headers={"kid": "k1", "jku": "https://evil.example/keys"})
    with_jwk = jwt.encode(claims, ca_key, algorithm="EdDSA", headers={"kid": "k1", "jwk": {"kty": "OKP"}})
    for token in (unsigned, hs, with_jku, with_jwk, "a.b", "", "x" * 9000):
        with pytest.raises(TokenError):
            v.verify_attestation(token, agent_id="bot", now=T)
    assert pem  # the public key is public; HMAC with it is refused before any key is used


def test_key_rotation_audience_and_unknown_issuers(ca_key: Ed25519PrivateKey) -> None:
    new = Ed25519PrivateKey.generate()
    v = TokenVerifier(issuers=[Issuer(name="ca", keys={"old": ca_key.public_key(), "new": new.public_key()})])
    for key, kid in ((ca_key, "old"), (new, "new")):
        v.verify_attestation(issue_attestation(key, issuer="ca", agent_id="b", now=T, kid=kid), agent_id="b", now=T)
    with pytest.raises(TokenError, match="key id"):
        v.verify_attestation(issue_attestation(new, issuer="ca", agent_id="b", now=T, kid="gone"), agent_id="b", now=T)
    with pytest.raises(TokenError):  # signed with the new key but naming the old one
        v.verify_attestation(issue_attestation(new, issuer="ca", agent_id="b", now=T, kid="old"), agent_id="b", now=T)
    with pytest.raises(TokenError):
        v.verify_attestation(
            issue_attestation(new, issuer="ca", agent_id="b", now=T, kid="new", audience="other"), agent_id="b", now=T
        )
    with pytest.raises(TokenError, match="not configured"):
        v.verify_attestation(issue_attestation(new, issuer="x", agent_id="b", now=T, kid="new"), agent_id="b", now=T)


def test_lifetime_is_bounded_and_jti_revocation_is_shared(ca_key: Ed25519PrivateKey) -> None:
    store = MemoryStore()
    v = TokenVerifier(
        issuers=[Issuer(name="ca", keys={"k1": ca_key.public_key()}, max_ttl_s=600)],
        revocations=JtiRevocations(store=store, refresh_s=0),
    )
    with pytest.raises(TokenError, match="lifetime"):
        v.verify_attestation(
            issue_attestation(ca_key, issuer="ca", agent_id="b", now=T, ttl_s=3600, kid="k1"), agent_id="b", now=T
        )
    token = issue_attestation(ca_key, issuer="ca", agent_id="b", now=T, ttl_s=60, kid="k1", jti="j-1")
    v.verify_attestation(token, agent_id="b", now=T)
    JtiRevocations(store=store, refresh_s=0).revoke("j-1", exp=T + 60, now=T)  # another process
    with pytest.raises(TokenError) as err:
        v.verify_attestation(token, agent_id="b", now=T)
    assert err.value.code == "ATTESTATION_REVOKED"


def test_a_delegation_hop_is_not_an_attestation(ca_key: Ed25519PrivateKey) -> None:
    hop = issue_delegation(ca_key, delegator="a", delegate="b", scope=["*"], now=T, issuer="ca", kid="k1")
    with pytest.raises(TokenError, match="agent-attestation"):
        verifier(ca_key).verify_attestation(hop, agent_id="b", now=T)


# -- delegation chains -------------------------------------------------------------------------------


@pytest.fixture
def world() -> tuple[AgentRegistry, dict[str, Ed25519PrivateKey]]:
    keys = {n: Ed25519PrivateKey.generate() for n in ("a", "b", "c", "d")}
    reg = AgentRegistry()
    for name, key in keys.items():
        reg.register(
            agent_id=name,
            trust_level="privileged" if name == "a" else "verified",
            public_keys={"k": public_key_pem(key)},
        )
    return reg, keys


def hop(keys: dict[str, Ed25519PrivateKey], src: str, dst: str, scope: tuple[str, ...] = ("*",), **kw: object) -> str:
    return issue_delegation(keys[src], delegator=src, delegate=dst, scope=scope, now=T, kid="k", **kw)  # type: ignore[arg-type]


def chain(reg: AgentRegistry, tokens: list[str], acting: str, tool: str = "t", depth: int = 3) -> object:
    return verify_chain(
        tokens, acting_agent=acting, tool_name=tool, verifier=TokenVerifier(), registry=reg, max_depth=depth, now=T
    )


def test_a_signed_chain_verifies_root_first(world: tuple[AgentRegistry, dict[str, Ed25519PrivateKey]]) -> None:
    reg, keys = world
    verified = chain(reg, [hop(keys, "a", "b"), hop(keys, "b", "c")], "c")
    assert verified.chain == ("a", "b") and verified.depth == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("build", "acting", "tool", "depth", "code"),
    [
        (lambda k: [hop(k, "a", "b"), hop(k, "b", "c"), hop(k, "c", "d")], "d", "t", 2, "DELEGATION_DEPTH_EXCEEDED"),
        (lambda k: [hop(k, "a", "b"), hop(k, "b", "a")], "a", "t", 3, "DELEGATION_CYCLE"),
        (lambda k: [hop(k, "a", "b"), hop(k, "c", "d")], "d", "t", 3, "DELEGATION_BROKEN"),
        (lambda k: [hop(k, "a", "b")], "c", "t", 3, "DELEGATION_BROKEN"),
        (lambda k: [hop(k, "a", "b", ("query_*",))], "b", "send_email", 3, "DELEGATION_SCOPE"),
        (
            lambda k: [issue_delegation(k["b"], delegator="a", delegate="b", scope=["*"], now=T, kid="k")],
            "b",
            "t",
            3,
            "DELEGATION_INVALID",
        ),
        (
            lambda k: [
                issue_delegation(k["a"], delegator="a", delegate="b", scope=["*"], now=T - 7200, ttl_s=60, kid="k")
            ],
            "b",
            "t",
            3,
            "DELEGATION_EXPIRED",
        ),
        (
            lambda k: [issue_delegation(k["a"], delegator="ghost", delegate="b", scope=["*"], now=T, kid="k")],
            "b",
            "t",
            3,
            "DELEGATION_INVALID",
        ),
    ],
    ids=[
        "one-hop-too-deep",
        "cycle",
        "disconnected",
        "wrong-end",
        "scope",
        "signed-by-delegate",
        "expired",
        "unregistered",
    ],
)
def test_bad_chains_are_refused(world, build, acting, tool, depth, code) -> None:  # type: ignore[no-untyped-def]
    reg, keys = world
    with pytest.raises(DelegationError) as err:
        chain(reg, build(keys), acting, tool, depth)
    assert err.value.code == code


def test_a_delegators_own_depth_limit_holds(world: tuple[AgentRegistry, dict[str, Ed25519PrivateKey]]) -> None:
    reg, keys = world
    reg.update("a", max_delegation_depth=1)
    with pytest.raises(DelegationError) as err:
        chain(reg, [hop(keys, "a", "b"), hop(keys, "b", "c")], "c")
    assert err.value.code == "DELEGATION_DEPTH_EXCEEDED"
    assert chain(reg, [hop(keys, "a", "b")], "b").depth == 1  # type: ignore[attr-defined]


def test_an_issuer_may_sign_hops_only_when_allowed(
    world: tuple[AgentRegistry, dict[str, Ed25519PrivateKey]], ca_key: Ed25519PrivateKey
) -> None:
    reg, _ = world
    token = issue_delegation(ca_key, delegator="a", delegate="b", scope=["*"], now=T, issuer="ca", kid="k1")
    for allowed in (False, True):
        v = TokenVerifier(issuers=[Issuer(name="ca", keys={"k1": ca_key.public_key()}, may_delegate=allowed)])
        if allowed:
            verified = verify_chain(
                [token], acting_agent="b", tool_name="t", verifier=v, registry=reg, max_depth=3, now=T
            )
            assert verified.chain == ("a",)
        else:
            with pytest.raises(DelegationError):
                verify_chain([token], acting_agent="b", tool_name="t", verifier=v, registry=reg, max_depth=3, now=T)
