"""Ed25519 keys for audit checkpoints: load PEM, sign, and name a key by its fingerprint.

The key id is ``"ed25519:" + sha256(raw 32-byte public key)[:32 hex]`` — stable, derived from the public
key alone, so a verifier given a set of public keys finds the right one for each checkpoint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent_security.core.audit._files import read_regular

__all__ = ["AuditSigner", "key_id", "load_public_key", "public_keys_by_id"]

MAX_PEM_BYTES = 64 * 1024
PemSource = bytes | str | os.PathLike[str]


def _pem_bytes(source: PemSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode()
    path = Path(source)
    data = read_regular(path, MAX_PEM_BYTES)  # a FIFO or /dev/zero is refused, st_size is not trusted
    if data is None:
        raise ValueError(f"{path}: a PEM key file is at most {MAX_PEM_BYTES} bytes")
    return data


def key_id(public_key: Ed25519PublicKey) -> str:
    """The fingerprint that names ``public_key`` in checkpoints."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def load_public_key(source: PemSource | Ed25519PublicKey) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text/bytes or a PEM file path (a private key PEM also works)."""
    if isinstance(source, Ed25519PublicKey):
        return source
    data = _pem_bytes(source)
    if b"PRIVATE KEY" in data:
        priv = serialization.load_pem_private_key(data, password=None)
        if not isinstance(priv, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 key")
        return priv.public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_keys_by_id(keys: Iterable[PemSource | Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    out: dict[str, Ed25519PublicKey] = {}
    for k in keys:
        pub = load_public_key(k)
        out[key_id(pub)] = pub
    return out


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


class AuditSigner:
    """Signs audit checkpoints with an Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> AuditSigner:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, source: PemSource, password: bytes | None = None) -> AuditSigner:
        """Load a PEM (PKCS#8) Ed25519 private key from text, bytes or a file path."""
        key = serialization.load_pem_private_key(_pem_bytes(source), password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the audit signing key must be an Ed25519 private key")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def public_key_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def __repr__(self) -> str:
        return f"AuditSigner(key_id={self.key_id!r})"
