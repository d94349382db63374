"""MCP pinning: a lock file of canonical hashes per server and tool, optionally Ed25519-signed.

Each tool is hashed over the RFC 8785 (JCS) canonical JSON of ``{name, title, description, inputSchema,
outputSchema, annotations}``, so key order and whitespace never matter and every field a model reads is
covered. A second hash over the same object *without* the name (``content``) lets ``verify`` tell a
rename from a removal plus an addition, and per-field hashes say which field drifted.

Lock file (JSON)::

    {"version": 1,
     "servers": {"<server>": {"server_hash": "...", "version": "1.2.0", "pinned_at": "...",
                              "tools": {"<tool>": {"hash": "...", "content": "...",
                                                   "fields": {"description": "...", ...}}}}},
     "signature": {"alg": "Ed25519", "key_id": "<sha256 of the public key>", "value": "<base64>"}}

The signature covers the canonical JSON of the document without ``signature``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent_security.core.files import MAX_KEY_FILE_BYTES, UnreadableFile, read_bounded
from agent_security.supply_chain.scanner import ToolDefinition, normalize_tool

__all__ = [
    "HASHED_FIELDS",
    "LOCK_VERSION",
    "MAX_LOCK_BYTES",
    "DriftReport",
    "LockFileError",
    "McpLock",
    "ToolChange",
    "canonical_hash",
    "field_hashes",
    "load_private_key",
    "load_public_key",
    "tool_content_hash",
    "tool_hash",
]

LOCK_VERSION = 1
MAX_LOCK_BYTES = 16 * 1024 * 1024
HASHED_FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")


class LockFileError(ValueError):
    """A lock file that cannot be read, parsed, or whose signature does not verify."""


def canonical_hash(value: Any) -> str:
    """``sha256:<hex>`` of the RFC 8785 canonical JSON of ``value``."""
    try:
        data = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise LockFileError(f"value cannot be canonicalised (RFC 8785): {exc}") from None
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tool_obj(tool: Any) -> dict[str, Any]:
    t = tool if isinstance(tool, ToolDefinition) else normalize_tool(tool)
    return {f: getattr(t, f) for f in HASHED_FIELDS}


def tool_hash(tool: Any) -> str:
    """Hash of a tool's full definition (name included)."""
    return canonical_hash(_tool_obj(tool))


def tool_content_hash(tool: Any) -> str:
    """Hash of a tool's definition without its name (to recognise renames)."""
    obj = _tool_obj(tool)
    obj.pop("name")
    return canonical_hash(obj)


def field_hashes(tool: Any) -> dict[str, str]:
    obj = _tool_obj(tool)
    return {f: canonical_hash(obj[f]) for f in HASHED_FIELDS if f != "name"}


def _server_hash(server_name: str, tools: Mapping[str, Mapping[str, Any]]) -> str:
    return canonical_hash({"name": server_name, "tools": {n: t["hash"] for n, t in sorted(tools.items())}})


@dataclass(frozen=True)
class ToolChange:
    kind: Literal["added", "removed", "changed", "renamed", "duplicate", "server_added", "server_missing"]
    tool: str | None
    fields: tuple[str, ...] = ()
    previous_name: str | None = None

    def describe(self) -> str:
        if self.kind == "renamed":
            return f"tool {self.previous_name!r} renamed to {self.tool!r}"
        if self.kind == "duplicate":
            return f"tool {self.tool!r} is defined more than once"
        if self.kind == "changed":
            return f"tool {self.tool!r} changed: {', '.join(self.fields)}"
        if self.kind in ("server_added", "server_missing"):
            return "server is not pinned in the lock file" if self.kind == "server_missing" else "server added"
        return f"tool {self.tool!r} {self.kind}"


@dataclass(frozen=True)
class DriftReport:
    server: str
    changes: tuple[ToolChange, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "ok": self.ok,
            "changes": [
                {
                    "kind": c.kind,
                    "tool": c.tool,
                    "fields": list(c.fields),
                    "previous_name": c.previous_name,
                    "message": c.describe(),
                }
                for c in self.changes
            ],
        }


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(read_bounded(path, MAX_KEY_FILE_BYTES, what="key file"), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise LockFileError(f"cannot load Ed25519 private key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LockFileError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(read_bounded(path, MAX_KEY_FILE_BYTES, what="key file"))
    except (OSError, ValueError, TypeError) as exc:
        raise LockFileError(f"cannot load Ed25519 public key {path}: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise LockFileError(f"{path} is not an Ed25519 public key")
    return key


def _key_id(pub: Ed25519PublicKey) -> str:
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class McpLock:
    """The pinned definitions of one or more MCP servers. Thread-safe."""

    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # ---- file I/O ----------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        public_key: Ed25519PublicKey | None = None,
        require_signature: bool = False,
    ) -> McpLock:
        """Read a lock file. With ``public_key`` (or ``require_signature``) an unsigned or badly signed file
        is a :class:`LockFileError`."""
        p = Path(path)
        try:
            doc = json.loads(read_bounded(p, MAX_LOCK_BYTES, what="lock file").decode("utf-8"))
        except UnreadableFile as exc:
            raise LockFileError(str(exc)) from None
        except OSError as exc:
            raise LockFileError(f"cannot read lock file {p}: {exc.strerror or exc}") from None
        except (ValueError, RecursionError) as exc:
            raise LockFileError(f"lock file {p} is not valid JSON: {exc}") from None
        return cls.from_document(doc, public_key=public_key, require_signature=require_signature, where=str(p))

    @classmethod
    def from_document(
        cls,
        doc: Any,
        *,
        public_key: Ed25519PublicKey | None = None,
        require_signature: bool = False,
        where: str = "<lock>",
    ) -> McpLock:
        if not isinstance(doc, dict) or doc.get("version") != LOCK_VERSION or not isinstance(doc.get("servers"), dict):
            raise LockFileError(f"{where}: not an agent-security MCP lock file (version {LOCK_VERSION})")
        sig = doc.get("signature")
        if public_key is not None or require_signature:
            if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
                raise LockFileError(f"{where}: the lock file is not signed")
            if public_key is None:
                raise LockFileError(f"{where}: a signature is required but no public key was given")
            body = {k: v for k, v in doc.items() if k != "signature"}
            try:
                public_key.verify(base64.b64decode(sig["value"], validate=True), rfc8785.dumps(body))
            except (InvalidSignature, binascii.Error, ValueError):
                raise LockFileError(f"{where}: the lock file signature does not verify") from None
        servers: dict[str, dict[str, Any]] = {}
        for name, entry in doc["servers"].items():
            if not isinstance(entry, dict) or not isinstance(entry.get("tools"), dict):
                raise LockFileError(f"{where}: server {name!r} has no tools table")
            for tname, t in entry["tools"].items():
                if not isinstance(t, dict) or not isinstance(t.get("hash"), str):
                    raise LockFileError(f"{where}: tool {tname!r} of server {name!r} has no hash")
            servers[str(name)] = entry
        return cls(servers=servers)

    def to_document(self, private_key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        with self._lock:
            doc: dict[str, Any] = {"version": LOCK_VERSION, "servers": json.loads(json.dumps(self.servers))}
        if private_key is not None:
            sig = private_key.sign(rfc8785.dumps(doc))
            doc["signature"] = {
                "alg": "Ed25519",
                "key_id": _key_id(private_key.public_key()),
                "value": base64.b64encode(sig).decode("ascii"),
            }
        return doc

    def save(self, path: str | os.PathLike[str], *, private_key: Ed25519PrivateKey | None = None) -> None:
        """Write atomically (temporary file + rename)."""
        p = Path(path)
        text = json.dumps(self.to_document(private_key), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".mcp-lock-", dir=str(p.parent or Path()))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            Path(tmp).replace(p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ---- pin / verify -----------------------------------------------------------------------------
    def pin(
        self,
        server_name: str,
        tools: Iterable[Any],
        *,
        version: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Record (or replace) the definitions of ``server_name``'s tools. Returns the server entry."""
        entries: dict[str, dict[str, Any]] = {}
        for raw in tools:
            t = normalize_tool(raw)
            if t.name in entries:
                raise LockFileError(f"tool {t.name!r} is defined twice by server {server_name!r}")
            entries[t.name] = {
                "hash": tool_hash(t),
                "content": tool_content_hash(t),
                "fields": field_hashes(t),
            }
        entry = {
            "server_hash": _server_hash(server_name, entries),
            "version": version,
            "pinned_at": (now or datetime.now(UTC)).isoformat(),
            "tools": entries,
        }
        with self._lock:
            self.servers[server_name] = entry
        return entry

    def verify(self, server_name: str, tools: Iterable[Any]) -> DriftReport:
        """Compare live definitions with the pinned ones: changed, added, removed and renamed tools."""
        with self._lock:
            entry = self.servers.get(server_name)
        if entry is None:
            return DriftReport(server_name, (ToolChange("server_missing", None),))
        pinned: dict[str, dict[str, Any]] = entry["tools"]
        current = {}
        changes: list[ToolChange] = []
        for raw in tools:
            t = normalize_tool(raw)
            if t.name in current:
                # the client shows the model every copy: one matching the pin must not vouch for another
                if not any(c.kind == "duplicate" and c.tool == t.name for c in changes):
                    changes.append(ToolChange("duplicate", t.name))
                continue
            current[t.name] = t
        pinned_by_content = {v.get("content"): n for n, v in pinned.items()}
        renamed_from: set[str] = set()
        for name, t in current.items():
            if name in pinned:
                if tool_hash(t) != pinned[name]["hash"]:
                    old_fields = pinned[name].get("fields") or {}
                    new_fields = field_hashes(t)
                    diff = tuple(f for f in new_fields if old_fields.get(f) != new_fields[f]) or ("definition",)
                    changes.append(ToolChange("changed", name, diff))
                continue
            src = pinned_by_content.get(tool_content_hash(t))
            if src is not None and src not in current:
                renamed_from.add(src)
                changes.append(ToolChange("renamed", name, ("name",), previous_name=src))
            else:
                changes.append(ToolChange("added", name))
        for name in pinned:
            if name not in current and name not in renamed_from:
                changes.append(ToolChange("removed", name))
        return DriftReport(server_name, tuple(changes))

    def tool_entry(self, server_name: str, tool_name: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self.servers.get(server_name)
            if entry is None:
                return None
            t = entry["tools"].get(tool_name)
            return dict(t) if isinstance(t, dict) else None

    def check_tool(self, server_name: str, tool: Any) -> ToolChange | None:
        """``None`` when ``tool`` matches its pinned definition; otherwise what is wrong."""
        t = normalize_tool(tool)
        entry = self.tool_entry(server_name, t.name)
        if entry is None:
            return ToolChange("added", t.name)
        if tool_hash(t) != entry["hash"]:
            old = entry.get("fields") or {}
            new = field_hashes(t)
            return ToolChange("changed", t.name, tuple(f for f in new if old.get(f) != new[f]) or ("definition",))
        return None
