"""Ed25519 keys for audit checkpoints: load PEM, sign, and name a key by its fingerprint.

The key id is ``"ed25519:" + sha256(raw 32-byte public key)[:32 hex]`` — stable, derived from the public
key alone, so a verifier given a set of public keys finds the right one for each checkpoint.

``cryptography`` is imported when a key is first loaded, generated or checked: a trail that signs nothing
does not load it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from agent_security.core.errors import AgentSecurityError
from agent_security.core.files import MAX_KEY_FILE_BYTES, UnreadableFile, read_bounded

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["AuditKeyError", "AuditSigner", "key_id", "load_public_key", "public_keys_by_id"]

MAX_PEM_BYTES = MAX_KEY_FILE_BYTES
PemSource = bytes | str | os.PathLike[str]


class AuditKeyError(AgentSecurityError, ValueError):
    """A PEM key that cannot be used for audit checkpoints: too large, not PEM, not Ed25519, encrypted
    without a password (or a password for a key that is not encrypted). ``str()`` names the file when
    the key came from one. File system errors (a missing file, a FIFO) stay :class:`OSError`."""


def _where(source: PemSource) -> str:
    if isinstance(source, bytes) or (isinstance(source, str) and source.lstrip().startswith("-----BEGIN")):
        return "PEM key"
    return os.fsdecode(source)


def _pem_bytes(source: PemSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode()
    path = Path(source)
    try:
        return read_bounded(path, MAX_PEM_BYTES, what="key file")  # a FIFO or /dev/zero is refused
    except UnreadableFile as exc:
        if not exc.too_large:
            raise  # NotRegularFileError, an OSError: the caller reports it like any unreadable path
        raise AuditKeyError(f"{path}: a PEM key file is at most {MAX_PEM_BYTES} bytes") from None


def _load_private(data: bytes, password: bytes | None, where: str) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:  # what cryptography raises for a missing (or an unexpected) password
        if password is None:
            raise AuditKeyError(f"{where}: the private key is encrypted and no password was given") from None
        raise AuditKeyError(f"{where}: a password was given but the private key is not encrypted") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(f"{where}: not a readable PEM private key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{where}: not an Ed25519 key")
    return key


def _first_line(exc: Exception) -> str:
    text = str(exc).split("\n", 1)[0].strip()
    return text[:200] if text else type(exc).__name__


def key_id(public_key: Ed25519PublicKey) -> str:
    """The fingerprint that names ``public_key`` in checkpoints."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def load_public_key(source: PemSource | Ed25519PublicKey) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text/bytes or a PEM file path (a private key PEM also works)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if isinstance(source, Ed25519PublicKey):
        return source
    where = _where(source)
    data = _pem_bytes(source)
    if b"PRIVATE KEY" in data:
        return _load_private(data, None, where).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(f"{where}: not a readable PEM public key ({_first_line(exc)})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{where}: not an Ed25519 public key")
    return key


def public_keys_by_id(keys: Iterable[PemSource | Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    out: dict[str, Ed25519PublicKey] = {}
    for k in keys:
        pub = load_public_key(k)
        out[key_id(pub)] = pub
    return out


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

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
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, source: PemSource, password: bytes | None = None) -> AuditSigner:
        """Load a PEM (PKCS#8) Ed25519 private key from text, bytes or a file path.

        Raises :class:`AuditKeyError` for a key that cannot be used (:class:`OSError` for a file that
        cannot be read)."""
        return cls(_load_private(_pem_bytes(source), password, _where(source)))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        from cryptography.hazmat.primitives import serialization

        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def public_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def __repr__(self) -> str:
        return f"AuditSigner(key_id={self.key_id!r})"
