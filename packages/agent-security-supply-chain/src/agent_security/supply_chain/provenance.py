"""``ToolProvenance``: registered tool manifests and their hashes, verified at call time.

Fixes the original's raw-string hashing: a manifest given as a mapping, or as a string that parses as
JSON, is hashed over its RFC 8785 canonical form, so re-serialising the same manifest (key order,
whitespace) does not look like tampering, while any change of content does. Other strings are hashed as
UTF-8 bytes. Hashes are ``sha256:<hex>``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent_security.supply_chain.pinning import LockFileError, canonical_hash

__all__ = [
    "MAX_MANIFEST_CHARS",
    "ProvenanceCheckResult",
    "ProvenanceRecord",
    "ToolProvenance",
    "manifest_hash",
]

MAX_MANIFEST_CHARS = 4 * 1024 * 1024


def manifest_hash(manifest: str | bytes | Mapping[str, Any]) -> str:
    """The provenance hash of a manifest (canonical JSON when it is JSON)."""
    if isinstance(manifest, bytes):
        if len(manifest) > MAX_MANIFEST_CHARS:
            raise ValueError(f"manifest is larger than {MAX_MANIFEST_CHARS} bytes")
        raw = manifest
        try:
            manifest = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "sha256:" + hashlib.sha256(raw).hexdigest()
    if isinstance(manifest, str):
        if len(manifest) > MAX_MANIFEST_CHARS:
            raise ValueError(f"manifest is longer than {MAX_MANIFEST_CHARS} characters")
        try:
            parsed = json.loads(manifest)
        except (ValueError, RecursionError):
            return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()
        if isinstance(parsed, dict | list):
            try:
                return canonical_hash(parsed)
            except LockFileError:
                pass
        return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()
    if isinstance(manifest, Mapping):
        try:
            return canonical_hash(dict(manifest))
        except LockFileError as exc:
            raise ValueError(str(exc)) from None
    raise TypeError(f"a manifest is a str, bytes or mapping, not {type(manifest).__name__}")


@dataclass(frozen=True)
class ProvenanceRecord:
    tool_name: str
    manifest_hash: str
    registered_at: datetime
    source: str | None = None
    publisher: str | None = None


@dataclass(frozen=True)
class ProvenanceCheckResult:
    valid: bool
    tool_name: str
    reason: str
    expected_hash: str | None = None
    actual_hash: str | None = None


class ToolProvenance:
    """Registry of tool manifests. ``verify`` recomputes the hash; caller-supplied flags are never read."""

    def __init__(self) -> None:
        self._records: dict[str, ProvenanceRecord] = {}
        self._lock = threading.Lock()

    def register(
        self,
        tool_name: str,
        manifest: str | bytes | Mapping[str, Any],
        *,
        source: str | None = None,
        publisher: str | None = None,
        now: datetime | None = None,
    ) -> ProvenanceRecord:
        """Register (or replace) the manifest of ``tool_name``."""
        rec = ProvenanceRecord(tool_name, manifest_hash(manifest), now or datetime.now(UTC), source, publisher)
        with self._lock:
            self._records[tool_name] = rec
        return rec

    def register_hash(
        self, tool_name: str, digest: str, *, source: str | None = None, publisher: str | None = None
    ) -> ProvenanceRecord:
        """Register a known hash (``sha256:<hex>``), e.g. from a provenance file."""
        if not digest.startswith("sha256:") or len(digest) != 71:
            raise ValueError("a manifest hash is 'sha256:' followed by 64 hex digits")
        int(digest[7:], 16)
        rec = ProvenanceRecord(tool_name, digest.lower(), datetime.now(UTC), source, publisher)
        with self._lock:
            self._records[tool_name] = rec
        return rec

    def verify(self, tool_name: str, manifest: str | bytes | Mapping[str, Any]) -> ProvenanceCheckResult:
        with self._lock:
            rec = self._records.get(tool_name)
        if rec is None:
            return ProvenanceCheckResult(False, tool_name, f'Tool "{tool_name[:128]}" has no provenance record')
        try:
            actual = manifest_hash(manifest)
        except (TypeError, ValueError) as exc:
            return ProvenanceCheckResult(False, tool_name, f"Manifest cannot be hashed: {exc}", rec.manifest_hash)
        if actual != rec.manifest_hash:
            return ProvenanceCheckResult(
                False,
                tool_name,
                "Manifest hash mismatch — possible tampering detected",
                rec.manifest_hash,
                actual,
            )
        return ProvenanceCheckResult(True, tool_name, "Hash verified", rec.manifest_hash, actual)

    def get_record(self, tool_name: str) -> ProvenanceRecord | None:
        with self._lock:
            return self._records.get(tool_name)

    def has(self, tool_name: str) -> bool:
        with self._lock:
            return tool_name in self._records

    def list(self) -> list[ProvenanceRecord]:
        with self._lock:
            return list(self._records.values())

    def remove(self, tool_name: str) -> bool:
        with self._lock:
            return self._records.pop(tool_name, None) is not None
