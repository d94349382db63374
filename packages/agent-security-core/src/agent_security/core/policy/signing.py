"""Policy bundle signatures: Ed25519 (recommended) and HMAC-SHA256 (Agent-SPM compatible field).

**What is signed.** The *canonical form* of the whole bundle: every field as written (nested rules,
conditions, constraints, defaults, dates, version) except the two signature fields ``signature`` and
``signatures``, serialised with RFC 8785 JSON canonicalisation (sorted keys, no whitespace, canonical
numbers and strings). Changing anything that affects a decision, at any depth, breaks every signature.
(Agent-SPM's HMAC covered only top-level strings and the rule count: its weakness W1.)

**Ed25519.** ``signatures: [{"key_id": ..., "alg": "ed25519", "sig": <base64>}]``. The signed message is
``b"agent-security/policy-bundle/v1\\x00" + canonical`` (a context prefix, so that a key used for
something else cannot be tricked into signing a bundle). ``key_id`` is the first 32 hex digits of the
SHA-256 of the raw 32-byte public key. Several signatures may be present (key rotation); a bundle
verifies when at least one comes from a trusted key and every signature from a trusted key is valid.

**HMAC-SHA256.** ``signature: <64 lower-case hex>`` = HMAC-SHA256(secret, canonical). Same field name as
Agent-SPM, but computed over the canonical whole bundle, so signatures made by the original do not
verify here: re-sign with ``agent-security policy sign --hmac-secret-env VAR``. Symmetric: anyone who can
verify can also forge, so prefer Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent_security.core.errors import PolicySignatureError
from agent_security.core.files import MAX_KEY_FILE_BYTES, UnreadableFile, read_bounded
from agent_security.core.policy.models import BundleSignature, PolicyBundle

__all__ = [
    "SIGNING_CONTEXT",
    "KeyPair",
    "PrivateKeySource",
    "PublicKeySource",
    "canonical_bytes",
    "compute_hmac_signature",
    "generate_keypair",
    "key_id_for",
    "load_private_key",
    "load_public_key",
    "sign_bundle",
    "sign_bundle_hmac",
    "trusted_key_map",
    "verify_bundle",
    "verify_hmac_signature",
]

SIGNING_CONTEXT = b"agent-security/policy-bundle/v1\x00"

PublicKeySource = Ed25519PublicKey | Ed25519PrivateKey | bytes | str | os.PathLike[str]
PrivateKeySource = Ed25519PrivateKey | bytes | str | os.PathLike[str]


@dataclass(frozen=True)
class KeyPair:
    """A new Ed25519 key pair as PEM (PKCS#8 private key, SubjectPublicKeyInfo public key)."""

    private_pem: bytes
    public_pem: bytes
    key_id: str

    def write(
        self, directory: str | os.PathLike[str], name: str = "policy", *, overwrite: bool = False
    ) -> tuple[Path, Path]:
        """Write ``<name>.key`` (mode 0600) and ``<name>.pub`` into ``directory``; returns both paths."""
        base = Path(directory)
        base.mkdir(parents=True, exist_ok=True)
        private_path, public_path = base / f"{name}.key", base / f"{name}.pub"
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        files = ((private_path, self.private_pem, 0o600), (public_path, self.public_pem, 0o644))
        for path, data, mode in files:
            fd = os.open(path, flags, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        return private_path, public_path


def generate_keypair() -> KeyPair:
    """A fresh Ed25519 key pair for signing policy bundles."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = private.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private_pem=private_pem, public_pem=public_pem, key_id=key_id_for(public))


def key_id_for(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The key id (fingerprint) of a public key: 32 hex digits of SHA-256 over its raw bytes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def _read_key_material(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii", "replace")
    path = Path(source)
    try:
        return read_bounded(path, MAX_KEY_FILE_BYTES, what="key file")
    except UnreadableFile as exc:
        raise PolicySignatureError(str(exc)) from None
    except OSError as exc:
        raise PolicySignatureError(f"cannot read key file {str(path)!r}: {exc.strerror or exc}") from None


def load_public_key(source: PublicKeySource) -> Ed25519PublicKey:
    """An Ed25519 public key from a key object, PEM bytes/text, or a PEM file path."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, Ed25519PrivateKey):
        return source.public_key()
    data = _read_key_material(source)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, binascii.Error):
        raise PolicySignatureError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise PolicySignatureError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def load_private_key(source: PrivateKeySource, password: bytes | None = None) -> Ed25519PrivateKey:
    """An Ed25519 private key from a key object, PEM bytes/text, or a PEM file path."""
    if isinstance(source, Ed25519PrivateKey):
        return source
    data = _read_key_material(source)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise PolicySignatureError(f"not a usable PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PolicySignatureError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def trusted_key_map(keys: Iterable[PublicKeySource]) -> dict[str, Ed25519PublicKey]:
    """``{key_id: public_key}`` for a collection of trusted keys (a mapping's values are used; the key
    ids are always recomputed from the keys themselves)."""
    if isinstance(keys, str | bytes | os.PathLike | Ed25519PublicKey | Ed25519PrivateKey):
        keys = [keys]
    elif isinstance(keys, Mapping):
        keys = list(keys.values())
    out: dict[str, Ed25519PublicKey] = {}
    for source in keys:
        key = load_public_key(source)
        out[key_id_for(key)] = key
    return out


def canonical_bytes(bundle: PolicyBundle) -> bytes:
    """RFC 8785 canonical JSON of the bundle without its signature fields (what every signature covers)."""
    try:
        data: Any = bundle.to_data(include_signatures=False)
        canonical: bytes = rfc8785.dumps(data)
    except rfc8785.CanonicalizationError as exc:
        raise PolicySignatureError(f"bundle cannot be canonicalised for signing: {exc}") from None
    return canonical


def sign_bundle(
    bundle: PolicyBundle, private_key: PrivateKeySource, *, password: bytes | None = None, replace: bool = False
) -> PolicyBundle:
    """A copy of ``bundle`` with an Ed25519 signature by ``private_key`` added.

    An earlier signature by the same key is replaced; signatures by other keys are kept (they stay
    valid, because signatures do not cover each other) unless ``replace`` is true.
    """
    key = load_private_key(private_key, password)
    key_id = key_id_for(key)
    sig = key.sign(SIGNING_CONTEXT + canonical_bytes(bundle))
    entry = BundleSignature(key_id=key_id, alg="ed25519", sig=base64.b64encode(sig).decode("ascii"))
    kept = () if replace else tuple(s for s in bundle.signatures or () if s.key_id != key_id)
    return bundle.model_copy(update={"signatures": (*kept, entry)})


def verify_bundle(bundle: PolicyBundle, trusted_keys: Iterable[PublicKeySource]) -> str:
    """Check the bundle's Ed25519 signatures against ``trusted_keys``; returns the verifying key id.

    Raises :class:`~agent_security.core.errors.PolicySignatureError` if no trusted key is given, the
    bundle has no signature by a trusted key, or any signature by a trusted key is malformed or invalid.
    Signatures by keys that are not trusted are ignored.
    """
    keys = trusted_key_map(trusted_keys)
    if not keys:
        raise PolicySignatureError("no trusted public keys given to verify the bundle with")
    signatures = bundle.signatures or ()
    if not signatures:
        raise PolicySignatureError(
            "PolicyBundle is not signed (no 'signatures' entry) but a signature by a trusted key is required"
        )
    payload = SIGNING_CONTEXT + canonical_bytes(bundle)
    verified: str | None = None
    for entry in signatures:
        key = keys.get(entry.key_id)
        if key is None:
            continue
        try:
            raw = base64.b64decode(entry.sig, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 64:
            raise PolicySignatureError(f"PolicyBundle signature by key {entry.key_id} is malformed")
        try:
            key.verify(raw, payload)
        except InvalidSignature:
            raise PolicySignatureError(
                f"PolicyBundle signature by key {entry.key_id} verification failed "
                "— the policy may have been tampered with"
            ) from None
        verified = entry.key_id
    if verified is None:
        signed_by = ", ".join(s.key_id for s in signatures)
        raise PolicySignatureError(
            f"PolicyBundle is not signed by a trusted key (signed by: {signed_by}; trusted: {', '.join(sorted(keys))})"
        )
    return verified


def _secret_bytes(secret: str | bytes) -> bytes:
    data = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not data:
        raise PolicySignatureError("the HMAC secret must not be empty")
    return data


def compute_hmac_signature(bundle: PolicyBundle, secret: str | bytes) -> str:
    """HMAC-SHA256 (lower-case hex) of the bundle's canonical form."""
    return hmac.new(_secret_bytes(secret), canonical_bytes(bundle), hashlib.sha256).hexdigest()


def sign_bundle_hmac(bundle: PolicyBundle, secret: str | bytes) -> PolicyBundle:
    """A copy of ``bundle`` with its ``signature`` field set to the HMAC of its canonical form."""
    return bundle.model_copy(update={"signature": compute_hmac_signature(bundle, secret)})


def verify_hmac_signature(bundle: PolicyBundle, secret: str | bytes) -> None:
    """Raise :class:`PolicySignatureError` unless ``signature`` is the HMAC of the canonical bundle."""
    if not bundle.signature:
        raise PolicySignatureError("PolicyBundle signature is required but missing")
    expected = compute_hmac_signature(bundle, secret)
    if not hmac.compare_digest(expected, bundle.signature):
        raise PolicySignatureError("PolicyBundle signature verification failed — policy may have been tampered with")
