"""``AgentRegistry``: who the agents are, kept behind the core store.

An agent's identity comes from here, never from the caller: the identity enforcer replaces the trust
level, roles, agent type, owner and environment a caller claims with the registered ones. Records are
frozen (:class:`AgentRecord`): a lookup hands out the record itself, which nobody can change in place
(the original's shallow copies shared their ``roles`` lists with the registry).

Ids are keyed by their canonical form (:func:`~agent_security.core.normalize.canonical_agent_id`), so
``Agent-7`` and ``agent-7 `` find ``agent-7``; a spelling that only *looks* like a registered id
(Cyrillic ``\u0430`` in ``\u0430gent-7``) is found by :meth:`AgentRegistry.confusable_with` instead, and the
enforcer treats it as a mismatch, never as a new agent.

Revocation is permanent: a revoked id cannot be registered again (``restore`` lifts it explicitly).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_security.core.models import TrustLevel, trust_rank
from agent_security.core.normalize import canonical_agent_id
from agent_security.core.store import Store
from agent_security.identity._documents import DOCUMENT_VERSION, read_document, register_records, write_document
from agent_security.identity._table import StoredTable
from agent_security.identity.confusables import skeleton
from agent_security.identity.errors import RegistryError

__all__ = ["MAX_PUBLIC_KEYS", "AgentRecord", "AgentRegistry"]

MAX_PUBLIC_KEYS = 8
_Text = Field(default=None, max_length=1024)


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


class AgentRecord(BaseModel):
    """One registered agent. ``public_keys`` (key id -> Ed25519 public key, PEM) sign the delegation
    tokens this agent issues to others."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    agent_id: str = Field(max_length=1024)
    """The canonical id (any spelling given is canonicalised)."""
    name: str = Field(default="", max_length=1024)
    owner: str | None = _Text
    environment: str | None = _Text
    """The environment the agent runs in; ``None``: whatever the caller says (not checked)."""
    agent_type: str | None = _Text
    trust_level: TrustLevel = TrustLevel.BASIC
    roles: tuple[str, ...] = Field(default=(), max_length=256)
    capabilities: tuple[str, ...] = Field(default=(), max_length=256)
    permissions: tuple[str, ...] = Field(default=(), max_length=256)
    """What tools the agent may use when tool permissions are enforced (a tool's ``permissions_required``)."""
    max_delegation_depth: int | None = Field(default=None, ge=0, le=64)
    public_keys: dict[str, str] = Field(default_factory=dict, max_length=MAX_PUBLIC_KEYS)
    revoked: bool = False
    revoked_reason: str | None = _Text
    registered_at: str | None = _Text

    @field_validator("agent_id")
    @classmethod
    def _canonical(cls, value: str) -> str:
        canonical = canonical_agent_id(value)
        if not canonical:
            raise ValueError("an agent id must have a visible character")
        return canonical

    @field_validator("roles", "capabilities", "permissions", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return _names(value)

    @field_validator("public_keys")
    @classmethod
    def _pem(cls, value: dict[str, str]) -> dict[str, str]:
        for kid, pem in value.items():
            if not kid or len(kid) > 256 or len(pem) > 4096 or "PUBLIC KEY" not in pem:
                raise ValueError("public_keys maps a key id to an Ed25519 public key in PEM (SubjectPublicKeyInfo)")
        return value

    @property
    def key(self) -> str:
        return self.agent_id

    def document(self) -> dict[str, Any]:
        """The record as a registry file writes it (defaults left out)."""
        return self.model_dump(mode="json", exclude_defaults=True) | {"agent_id": self.agent_id}


AgentRecords = list[AgentRecord]


class AgentRegistry:
    """Registered agents (see the module documentation). Thread-safe; shares its state through the store.

    ``store``: where records live (default: a private in-memory store until the enforcer binds the
    instance's store). ``refresh_s``: how stale another process's change may be seen (see
    :mod:`agent_security.identity._table`).
    """

    def __init__(self, *, store: Store | None = None, refresh_s: float = 1.0) -> None:
        self._skeletons: dict[str, str] = {}
        self._table: StoredTable[AgentRecord] = StoredTable(
            "agent", AgentRecord.model_validate, store=store, refresh_s=refresh_s, on_reload=self._index
        )

    def _index(self, records: dict[str, AgentRecord]) -> None:
        self._skeletons = {skeleton(k): k for k in records}

    # -- store ------------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._table.store

    def bind_store(self, store: Store) -> None:
        self._table.bind_store(store)

    @property
    def refresh_s(self) -> float:
        return self._table.refresh_s

    # -- writes -----------------------------------------------------------------------------------
    def register(self, record: AgentRecord | Mapping[str, Any] | None = None, /, **fields: Any) -> AgentRecord:
        """Register (or replace) an agent: an :class:`AgentRecord`, a mapping, or its fields as keywords.
        Raises :class:`RegistryError` for a revoked id, ``ValueError`` for invalid fields."""
        if record is None:
            record = AgentRecord.model_validate(fields)
        elif not isinstance(record, AgentRecord):
            record = AgentRecord.model_validate({**record, **fields})
        elif fields:
            record = record.model_copy(update=fields)
            record = AgentRecord.model_validate(record.model_dump())
        existing = self._read(record.agent_id)
        if existing is not None and existing.revoked:
            raise RegistryError(f'Agent "{record.agent_id}" has been revoked and cannot be re-registered')
        if record.revoked:
            raise RegistryError("register a record without 'revoked'; use revoke()")
        if record.registered_at is None:
            record = record.model_copy(update={"registered_at": datetime.now(UTC).isoformat(timespec="seconds")})
        self._table.put(record.agent_id, record.model_dump(mode="json"))
        return record

    def update(self, agent_id: str, *, allow_trust_increase: bool = False, **changes: Any) -> AgentRecord:
        """Change fields of a registered agent. Raising its trust level needs ``allow_trust_increase=True``
        (the original let any caller raise trust through ``update``)."""
        current = self._read(agent_id)
        if current is None:
            raise RegistryError(f'Agent "{canonical_agent_id(agent_id)}" not found')
        if current.revoked:
            raise RegistryError(f'Agent "{current.agent_id}" is revoked')
        changes.pop("agent_id", None)
        changes.pop("revoked", None)
        new = AgentRecord.model_validate({**current.model_dump(), **changes})
        if trust_rank(new.trust_level) > trust_rank(current.trust_level) and not allow_trust_increase:
            raise RegistryError(
                f'raising the trust of "{current.agent_id}" from {current.trust_level} to {new.trust_level} '
                "needs allow_trust_increase=True"
            )
        self._table.put(new.agent_id, new.model_dump(mode="json"))
        return new

    def revoke(self, agent_id: str, reason: str = "") -> bool:
        """Revoke an agent (permanent until :meth:`restore`); ``False`` when it was not registered."""
        current = self._read(agent_id)
        if current is None:
            return False
        revoked = current.model_copy(update={"revoked": True, "revoked_reason": reason[:1024] or None})
        self._table.put(current.agent_id, revoked.model_dump(mode="json"))
        return True

    def restore(self, agent_id: str) -> bool:
        """Lift a revocation (an explicit operator act); ``False`` when the agent is not revoked."""
        current = self._read(agent_id)
        if current is None or not current.revoked:
            return False
        self._table.put(
            current.agent_id,
            current.model_copy(update={"revoked": False, "revoked_reason": None}).model_dump(mode="json"),
        )
        return True

    def remove(self, agent_id: str) -> bool:
        """Forget an agent that is not revoked (a revoked id stays revoked)."""
        current = self._read(agent_id)
        if current is None or current.revoked:
            return False
        return self._table.delete(current.agent_id)

    def clear(self) -> int:
        """Forget every agent, revocations included (tests, re-imports)."""
        return self._table.clear()

    # -- reads ------------------------------------------------------------------------------------
    def _read(self, agent_id: str) -> AgentRecord | None:
        """The record, revoked or not, read from the store itself (writes must not act on a stale cache)."""
        canonical = canonical_agent_id(agent_id)
        if not canonical:
            return None
        raw = self._table.raw(canonical)
        if not isinstance(raw, Mapping):
            return None
        try:
            return AgentRecord.model_validate(raw)
        except ValidationError:
            return None

    def get(self, agent_id: str) -> AgentRecord | None:
        """The record of ``agent_id`` (any spelling of it), revoked or not; ``None`` when unknown."""
        return self._table.get(canonical_agent_id(agent_id))

    def snapshot(self) -> Mapping[str, AgentRecord]:
        """The current records by canonical id: one mapping, replaced (never changed) when the registry
        changes, so that the same mapping means the same records and lookalikes. Do not mutate."""
        return self._table.snapshot()

    def get_canonical(self, agent_id: str) -> AgentRecord | None:
        """:meth:`get` for an id already in canonical form (an ``AgentInfo.agent_id``)."""
        return self._table.snapshot().get(agent_id)

    def lookup(self, agent_id: str) -> AgentRecord | None:
        """The record of a registered, unrevoked agent; ``None`` otherwise."""
        record = self.get(agent_id)
        return None if record is None or record.revoked else record

    def is_revoked(self, agent_id: str) -> bool:
        record = self.get(agent_id)
        return record is not None and record.revoked

    def confusable_with(self, agent_id: str) -> str | None:
        """The registered id that ``agent_id`` looks like without being it (see
        :mod:`agent_security.identity.confusables`), or ``None``."""
        canonical = canonical_agent_id(agent_id)
        snapshot = self._table.snapshot()
        if canonical in snapshot:
            return None
        found = self._skeletons.get(skeleton(canonical))
        return found if found is not None and found != canonical else None

    def list(self, *, include_revoked: bool = False) -> AgentRecords:
        records = self._table.snapshot().values()
        return sorted((r for r in records if include_revoked or not r.revoked), key=lambda r: r.agent_id)

    def list_by_type(self, agent_type: str) -> AgentRecords:
        return [r for r in self.list() if r.agent_type == agent_type]

    def list_by_trust_level(self, minimum: TrustLevel | str) -> AgentRecords:
        floor = trust_rank(minimum)
        return [r for r in self.list() if trust_rank(r.trust_level) >= floor]

    @property
    def size(self) -> int:
        return sum(1 for r in self._table.snapshot().values() if not r.revoked)

    def __len__(self) -> int:
        return self.size

    # -- files ------------------------------------------------------------------------------------
    def load_records(
        self, items: Iterable[Mapping[str, Any]], *, source: str = "<records>", skip_revoked: bool = False
    ) -> int:
        """Register every agent of ``items`` (validated all first: a bad record registers nothing)."""
        return register_records(
            self.register, AgentRecord, items, what="agent", source=source, skip_revoked=skip_revoked
        )

    def load(self, path: str | os.PathLike[str], *, skip_revoked: bool = False) -> int:
        """Register the agents of a registry file (YAML or JSON; see :mod:`agent_security.identity._documents`)."""
        return self.load_records(
            read_document(path).get("agents", []), source=os.fspath(path), skip_revoked=skip_revoked
        )

    def save(self, path: str | os.PathLike[str], *, include_revoked: bool = True) -> None:
        """Write the agents to a registry file (tools are written by ``ToolRegistry.save`` or
        :func:`agent_security.identity.save_registries`)."""
        write_document(path, self.document(include_revoked=include_revoked))

    def document(self, *, include_revoked: bool = True) -> dict[str, Any]:
        return {
            "version": DOCUMENT_VERSION,
            "agents": [r.document() for r in self.list(include_revoked=include_revoked)],
        }
