"""Ed25519 and HMAC signatures over the canonical whole bundle; tampering anywhere breaks them."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.core import AgentSecurity
from agent_security.core.errors import ConfigurationError, PolicySignatureError
from agent_security.core.policy import (
    PolicyBundle,
    canonical_bytes,
    compute_hmac_signature,
    generate_keypair,
    key_id_for,
    load_policy,
    load_public_key,
    sign_bundle,
    sign_bundle_hmac,
    verify_bundle,
    verify_hmac_signature,
)


@pytest.fixture
def bundle(examples_dir, now) -> PolicyBundle:
    return load_policy(examples_dir / "default-policy.json", now=now)


def _tampered(bundle: PolicyBundle, mutate) -> PolicyBundle:
    data = bundle.to_data()
    mutate(data)
    return PolicyBundle.model_validate(data)


TAMPERS = {
    "nested rule outcome": lambda d: d["rules"][0].__setitem__("outcome", "ALLOW"),
    "contains term": lambda d: d["rules"][0]["when"]["contains_any"].pop(),
    "tool name widened": lambda d: d["rules"][3]["match"].__setitem__("tool_name", "*"),
    "environment": lambda d: d["rules"][5]["match"].__setitem__("environment", "nowhere"),
    "default outcome": lambda d: d["defaults"].__setitem__("outcome", "ALLOW"),
    "approver": lambda d: d["rules"][3].__setitem__("approver_role", "intern"),
    "rule order": lambda d: d["rules"].reverse(),
    "new constraint": lambda d: d["rules"][6].__setitem__("constraints", {"x": 1}),
    "expiry": lambda d: d.__setitem__("expires_at", "2099-01-01T00:00:00Z"),
}


def test_ed25519_round_trip(bundle):
    pair = generate_keypair()
    assert pair.private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pair.public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    signed = sign_bundle(bundle, pair.private_pem)
    assert signed.signatures is not None and signed.signatures[0].key_id == pair.key_id
    assert len(base64.b64decode(signed.signatures[0].sig)) == 64
    assert verify_bundle(signed, [pair.public_pem]) == pair.key_id
    assert bundle.signatures is None  # signing returns a copy


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_breaks_both_signatures(bundle, name):
    pair = generate_keypair()
    signed = sign_bundle_hmac(sign_bundle(bundle, pair.private_pem), "s3cret")
    verify_bundle(signed, [pair.public_pem])
    verify_hmac_signature(signed, "s3cret")
    tampered = _tampered(signed, TAMPERS[name])
    with pytest.raises(PolicySignatureError, match="tampered"):
        verify_bundle(tampered, [pair.public_pem])
    with pytest.raises(PolicySignatureError, match="tampered"):
        verify_hmac_signature(tampered, "s3cret")


def test_original_w1_payload_would_not_have_caught_this(bundle):
    # Agent-SPM signed JSON.stringify(rest, sortedTopLevelKeys): nested objects became {}. Show that a
    # nested outcome flip leaves that payload unchanged but changes our canonical form.
    def original_payload(b: PolicyBundle) -> str:
        data = b.to_data(include_signatures=False)
        keys = sorted(data)

        def strip(v, top=False):
            if isinstance(v, dict):
                return {k: strip(v[k]) for k in (keys if top else sorted(v)) if k in keys and k in v}
            if isinstance(v, list):
                return [strip(x) for x in v]
            return v

        return json.dumps(strip(data, top=True))

    flipped = _tampered(bundle, TAMPERS["nested rule outcome"])
    assert original_payload(bundle) == original_payload(flipped)
    assert canonical_bytes(bundle) != canonical_bytes(flipped)


def test_hmac_compatibility_field(bundle):
    signed = sign_bundle_hmac(bundle, b"key")
    assert signed.signature == compute_hmac_signature(bundle, "key")
    assert len(signed.signature) == 64 and signed.signature == signed.signature.lower()
    with pytest.raises(PolicySignatureError, match="verification failed"):
        verify_hmac_signature(signed, "other")
    with pytest.raises(PolicySignatureError, match="required but missing"):
        verify_hmac_signature(bundle, "key")
    with pytest.raises(PolicySignatureError, match="must not be empty"):
        compute_hmac_signature(bundle, "")


def test_signatures_do_not_cover_each_other(bundle):
    a, b = generate_keypair(), generate_keypair()
    signed = sign_bundle(sign_bundle(sign_bundle_hmac(bundle, "k"), a.private_pem), b.private_pem)
    assert {s.key_id for s in signed.signatures or ()} == {a.key_id, b.key_id}
    assert verify_bundle(signed, [a.public_pem]) == a.key_id
    assert verify_bundle(signed, [b.public_pem]) == b.key_id
    verify_hmac_signature(signed, "k")
    resigned = sign_bundle(signed, a.private_pem)  # same key: replaced, not duplicated
    assert len(resigned.signatures or ()) == 2
    only_b = sign_bundle(signed, b.private_pem, replace=True)
    assert [s.key_id for s in only_b.signatures or ()] == [b.key_id]


def test_verification_failures(bundle):
    pair, stranger = generate_keypair(), generate_keypair()
    with pytest.raises(PolicySignatureError, match="not signed"):
        verify_bundle(bundle, [pair.public_pem])
    signed = sign_bundle(bundle, pair.private_pem)
    with pytest.raises(PolicySignatureError, match="not signed by a trusted key"):
        verify_bundle(signed, [stranger.public_pem])
    with pytest.raises(PolicySignatureError, match="no trusted public keys"):
        verify_bundle(signed, [])
    data = signed.to_data()
    data["signatures"][0]["sig"] = "not base64!!"
    with pytest.raises(PolicySignatureError, match="malformed"):
        verify_bundle(PolicyBundle.model_validate(data), [pair.public_pem])
    data["signatures"][0]["sig"] = base64.b64encode(b"\0" * 64).decode()
    with pytest.raises(PolicySignatureError, match="verification failed"):
        verify_bundle(PolicyBundle.model_validate(data), [pair.public_pem])


def test_key_sources(tmp_path, bundle):
    pair = generate_keypair()
    private_path, public_path = pair.write(tmp_path, "k")
    assert (private_path.stat().st_mode & 0o777) == 0o600
    with pytest.raises(FileExistsError):
        pair.write(tmp_path, "k")
    signed = sign_bundle(bundle, private_path)
    key_obj = load_public_key(public_path)
    assert key_id_for(key_obj) == pair.key_id
    for trusted in (
        [public_path],
        [str(public_path)],
        [pair.public_pem.decode()],
        [key_obj],
        {"whatever": key_obj},
        str(public_path),
    ):
        assert verify_bundle(signed, trusted) == pair.key_id  # type: ignore[arg-type]
    with pytest.raises(PolicySignatureError, match="not a PEM public key"):
        load_public_key(b"junk")
    with pytest.raises(PolicySignatureError, match="cannot read key file"):
        load_public_key(tmp_path / "missing.pub")
    raw = Ed25519PrivateKey.generate()
    assert verify_bundle(sign_bundle(bundle, raw), [raw.public_key()]) == key_id_for(raw)


def test_load_policy_enforces_signatures(tmp_path, bundle, now):
    pair = generate_keypair()
    signed = sign_bundle_hmac(sign_bundle(bundle, pair.private_pem), "hmac-key")
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(signed.to_data()))
    assert load_policy(path, trusted_keys=[pair.public_pem], hmac_secret="hmac-key", now=now) == signed
    with pytest.raises(PolicySignatureError):
        load_policy(path, trusted_keys=[generate_keypair().public_pem], now=now)
    with pytest.raises(PolicySignatureError):
        load_policy(path, hmac_secret="wrong", now=now)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(bundle.to_data()))
    with pytest.raises(PolicySignatureError, match="not signed"):
        load_policy(unsigned, trusted_keys=[pair.public_pem], now=now)
    with pytest.raises(PolicySignatureError, match="required but missing"):
        load_policy(unsigned, hmac_secret="x", now=now)
    assert load_policy(unsigned, trusted_keys=None, now=now) == bundle  # no keys configured: not required
    # an explicitly empty list is a mistake (a key list that came back empty), never a silent skip
    for empty in ([], (), iter([])):
        with pytest.raises(ConfigurationError, match="empty list"):
            load_policy(unsigned, trusted_keys=empty, now=now)
        with pytest.raises(ConfigurationError, match="empty list"):
            load_policy(path, trusted_keys=empty, now=now)
    with pytest.raises(ConfigurationError, match="empty list"):
        AgentSecurity(policy_path=unsigned, trusted_policy_keys=[], autoload=False)
    with pytest.raises(PolicySignatureError, match="must not be empty"):
        load_policy(path, hmac_secret="", now=now)
    text = path.read_text().replace('"outcome": "DENY"', '"outcome": "ALLOW"', 1)
    with pytest.raises(PolicySignatureError):
        load_policy(text, trusted_keys=[pair.public_pem], now=now)


def test_signature_is_format_independent(examples_dir, now):
    pair = generate_keypair()
    from_json = load_policy(examples_dir / "default-policy.json", now=now)
    from_yaml = load_policy(examples_dir / "default-policy.yaml", now=now)
    signed = sign_bundle(from_yaml, pair.private_pem)
    moved = from_json.model_copy(update={"signatures": signed.signatures})
    assert verify_bundle(moved, [pair.public_pem]) == pair.key_id


def test_canonical_form_is_rfc8785(build_bundle, make_rule, now):
    bundle = load_policy(build_bundle(make_rule("R", "t", constraints={"b": 1.0, "a": "é"})), now=now)
    text = canonical_bytes(bundle).decode()
    assert text.startswith('{"defaults":{"outcome":"ALLOW"},"expires_at"')
    assert '"constraints":{"a":"é","b":1}' in text
    assert '"signature' not in canonical_bytes(sign_bundle_hmac(bundle, "k")).decode()
