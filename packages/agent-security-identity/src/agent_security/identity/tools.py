"""``ToolRegistry``: which tools exist, who provides them, what they must hash to and what they need.

A registered tool has a version, a provider, a manifest hash (``sha256:<hex>``, the supply-chain
package's canonical form, or a bare hex digest) and the permissions an agent needs to use it. The
identity enforcer replaces the ``tool_identity`` a caller claims with the registered one
(``verified=True``); a caller's claimed manifest hash that differs from the registered hash is
``TOOL_HASH_MISMATCH``; an unregistered tool is ``TOOL_UNREGISTERED`` when registration of tools is
required. Tool names are compared in the core's normalised form (``Send_Email`` is ``send_email``).

MCP tools are registered from the supply-chain package's pin file (``agent-security mcp pin``): each
pinned tool becomes ``mcp__<server>__<tool>`` with provider ``mcp``, the server's version and the
pinned hash (:meth:`ToolRegistry.register_mcp_lock`; needs ``agent-security-supply-chain``, the
``mcp`` extra of this distribution).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_security.core.normalize import normalize_name
from agent_security.core.store import Store
from agent_security.identity._documents import DOCUMENT_VERSION, read_document, register_records, write_document
from agent_security.identity._table import StoredTable
from agent_security.identity.errors import RegistryError, RegistryFileError

__all__ = ["ToolRecord", "ToolRegistry", "compute_hash", "same_hash"]


def compute_hash(content: str | bytes) -> str:
    """``sha256:<hex>`` of a manifest's bytes (UTF-8 for text)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _digest(value: str) -> str:
    value = value.strip().lower()
    return value[7:] if value.startswith("sha256:") else value


def same_hash(a: str, b: str) -> bool:
    """Whether two manifest hashes (``sha256:<hex>`` or bare hex) are the same, compared in constant time."""
    return hmac.compare_digest(_digest(a).encode(), _digest(b).encode())


class ToolRecord(BaseModel):
    """One registered tool."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    tool_name: str = Field(min_length=1, max_length=256)
    """Stored in the core's normalised form."""
    version: str | None = Field(default=None, max_length=256)
    provider: str | None = Field(default=None, max_length=256)
    manifest_hash: str | None = Field(default=None, max_length=256)
    permissions_required: tuple[str, ...] = Field(default=(), max_length=256)
    data_access: tuple[str, ...] = Field(default=(), max_length=256)
    revoked: bool = False
    revoked_reason: str | None = Field(default=None, max_length=1024)

    @field_validator("tool_name")
    @classmethod
    def _normal(cls, value: str) -> str:
        name = normalize_name(value)
        if not name:
            raise ValueError("a tool name must have a visible character")
        return name

    @field_validator("manifest_hash")
    @classmethod
    def _hash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digest = _digest(value)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("manifest_hash is a SHA-256 digest: 'sha256:<64 hex>' or 64 hex characters")
        return "sha256:" + digest

    @field_validator("permissions_required", "data_access", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @property
    def key(self) -> str:
        return self.tool_name

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True) | {"tool_name": self.tool_name}


ToolRecords = list[ToolRecord]


class ToolRegistry:
    """Registered tools (see the module documentation). Thread-safe; shares its state through the store."""

    def __init__(self, *, store: Store | None = None, refresh_s: float = 1.0) -> None:
        self._table: StoredTable[ToolRecord] = StoredTable(
            "tool", ToolRecord.model_validate, store=store, refresh_s=refresh_s
        )

    @property
    def store(self) -> Store:
        return self._table.store

    def bind_store(self, store: Store) -> None:
        self._table.bind_store(store)

    def register(self, record: ToolRecord | Mapping[str, Any] | None = None, /, **fields: Any) -> ToolRecord:
        """Register (or replace) a tool; :class:`RegistryError` for a revoked one."""
        if record is None:
            record = ToolRecord.model_validate(fields)
        elif not isinstance(record, ToolRecord):
            record = ToolRecord.model_validate({**record, **fields})
        existing = self._read(record.tool_name)
        if existing is not None and existing.revoked:
            raise RegistryError(f'Tool "{record.tool_name}" has been revoked')
        if record.revoked:
            raise RegistryError("register a record without 'revoked'; use revoke()")
        self._table.put(record.tool_name, record.model_dump(mode="json"))
        return record

    def revoke(self, tool_name: str, reason: str = "") -> bool:
        current = self._read(tool_name)
        if current is None:
            return False
        new = current.model_copy(update={"revoked": True, "revoked_reason": reason[:1024] or None})
        self._table.put(current.tool_name, new.model_dump(mode="json"))
        return True

    def clear(self) -> int:
        return self._table.clear()

    def _read(self, tool_name: str) -> ToolRecord | None:
        raw = self._table.raw(normalize_name(tool_name))
        if not isinstance(raw, Mapping):
            return None
        try:
            return ToolRecord.model_validate(raw)
        except ValidationError:
            return None

    def snapshot(self) -> Mapping[str, ToolRecord]:
        """The current records by normalised name: one mapping, replaced (never changed) when the
        registry changes, so that the same mapping means the same records. Do not mutate."""
        return self._table.snapshot()

    def get(self, tool_name: str) -> ToolRecord | None:
        """The record (revoked or not) of ``tool_name``; ``None`` when unknown."""
        return self._table.get(normalize_name(tool_name))

    def lookup(self, tool_name: str) -> ToolRecord | None:
        record = self.get(tool_name)
        return None if record is None or record.revoked else record

    def is_revoked(self, tool_name: str) -> bool:
        record = self.get(tool_name)
        return record is not None and record.revoked

    def verify_hash(self, tool_name: str, manifest: str | bytes) -> bool:
        """Whether ``manifest`` hashes to the registered hash (``False`` for an unknown tool or one
        without a hash). Raw bytes are hashed; the supply-chain package's provenance check hashes JSON
        manifests canonically."""
        record = self.lookup(tool_name)
        if record is None or record.manifest_hash is None:
            return False
        return same_hash(record.manifest_hash, compute_hash(manifest))

    def list(self, *, include_revoked: bool = False) -> ToolRecords:
        records = self._table.snapshot().values()
        return sorted((r for r in records if include_revoked or not r.revoked), key=lambda r: r.tool_name)

    def list_by_provider(self, provider: str) -> ToolRecords:
        return [r for r in self.list() if r.provider == provider]

    @property
    def size(self) -> int:
        return len(self.list())

    def __len__(self) -> int:
        return self.size

    # -- files ------------------------------------------------------------------------------------
    def load_records(
        self, items: Iterable[Mapping[str, Any]], *, source: str = "<records>", skip_revoked: bool = False
    ) -> int:
        return register_records(self.register, ToolRecord, items, what="tool", source=source, skip_revoked=skip_revoked)

    def load(self, path: str | os.PathLike[str], *, skip_revoked: bool = False) -> int:
        return self.load_records(
            read_document(path).get("tools", []), source=os.fspath(path), skip_revoked=skip_revoked
        )

    def save(self, path: str | os.PathLike[str], *, include_revoked: bool = True) -> None:
        write_document(path, self.document(include_revoked=include_revoked))

    def document(self, *, include_revoked: bool = True) -> dict[str, Any]:
        return {
            "version": DOCUMENT_VERSION,
            "tools": [r.document() for r in self.list(include_revoked=include_revoked)],
        }

    def register_mcp_lock(
        self,
        path: str | os.PathLike[str],
        *,
        public_key: str | os.PathLike[str] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
    ) -> int:
        """Register every tool pinned in an MCP lock file (read by the supply-chain package's reader,
        which checks the file's signature when ``public_key`` is given): ``mcp__<server>__<tool>``,
        provider ``mcp``, the server's version, the pinned hash. ``permissions`` maps a registered tool
        name to its required permissions. Returns how many tools were registered."""
        try:
            from agent_security.supply_chain.pinning import LockFileError, McpLock, load_public_key
        except ImportError as exc:  # pragma: no cover - the workspace installs it
            raise RegistryError(
                "registering MCP tools from a pin file needs agent-security-supply-chain "
                "(pip install 'agent-security-identity[mcp]')"
            ) from exc
        try:
            key = load_public_key(public_key) if public_key is not None else None
            lock = McpLock.load(path, public_key=key, require_signature=key is not None)
        except (LockFileError, OSError, ValueError) as exc:
            raise RegistryFileError(f"MCP pin file {os.fspath(path)}: {exc}") from exc
        perms = {normalize_name(k): tuple(v) for k, v in (permissions or {}).items()}
        records = []
        for server, entry in lock.servers.items():
            for tool, pinned in (entry.get("tools") or {}).items():
                name = normalize_name(f"mcp__{server}__{tool}")
                records.append(
                    ToolRecord(
                        tool_name=name,
                        version=entry.get("version"),
                        provider="mcp",
                        manifest_hash=pinned.get("hash"),
                        permissions_required=perms.get(name, ()),
                    )
                )
        for record in records:
            self.register(record)
        return len(records)
