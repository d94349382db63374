"""``PostureInventory``: the agents, tools, plugins and MCP servers of a deployment, in one place.

Items come from the registries (agent-security-identity's ``AgentRegistry`` and ``ToolRegistry``, when
installed: they are read through their public ``list()``, never imported here), from what the audit trail
shows (agents and tools that acted, plugins a startup event registered), and from explicit
``register_*`` calls (the original's API). An item seen only in the trail is marked ``registered=False``:
an agent that acts without being registered is a finding, not a gap in the inventory.

Keys are ``"<type>:<id>"`` (``"agent:finance-bot"``). Registering again replaces the item's metadata but
keeps its first ``registered_at`` (the original reset it). Thread-safe.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from agent_security.posture.activity import OTHER, TrailSummary

__all__ = ["InventoryItem", "ItemType", "PostureInventory"]

ItemType = Literal["agent", "tool", "plugin", "mcp_server"]
ITEM_TYPES: tuple[ItemType, ...] = ("agent", "tool", "plugin", "mcp_server")
MAX_ITEMS = 100_000


def _value(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _plain(value: Any) -> Any:
    """Enums by value, tuples as lists: metadata as JSON would hold it."""
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    if isinstance(value, tuple | list | set | frozenset):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class InventoryItem:
    """One thing in the inventory."""

    type: ItemType
    id: str
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    registered_at: datetime | None = None
    registered: bool = True
    """False for an item known only from the audit trail."""
    sources: tuple[str, ...] = ()
    """Where it was found: ``registry``, ``audit``, ``api``."""

    @property
    def key(self) -> str:
        return f"{self.type}:{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "metadata": self.metadata,
            "registered_at": self.registered_at.isoformat() if self.registered_at else None,
            "registered": self.registered,
            "sources": list(self.sources),
        }


class PostureInventory:
    """See the module documentation. ``now`` supplies ``registered_at`` (inject a clock in tests)."""

    def __init__(self, *, now: Any = None) -> None:
        self._items: dict[str, InventoryItem] = {}
        self._lock = threading.Lock()
        self._now = now or (lambda: datetime.now(UTC))

    # -- the original's API ------------------------------------------------------------------------
    def _put(self, item: InventoryItem) -> InventoryItem:
        with self._lock:
            known = self._items.get(item.key)
            if known is None and len(self._items) >= MAX_ITEMS:
                raise ValueError(f"the inventory holds {MAX_ITEMS} items already")
            if known is not None:
                sources = tuple(dict.fromkeys((*known.sources, *item.sources)))
                if item.registered:  # new facts replace the old; the first registration time stays
                    item = replace(item, registered_at=known.registered_at or item.registered_at, sources=sources)
                else:  # seen in the trail: what is known already stays
                    item = replace(known, sources=sources)
            self._items[item.key] = item
            return item

    def register_agent(self, agent: Any, *, source: str = "api") -> InventoryItem:
        """An agent from an ``AgentRecord``, an ``AgentInfo`` or a mapping with the same fields."""
        agent_id = str(_value(agent, "agent_id") or "")
        if not agent_id:
            raise ValueError("an agent needs an agent_id")
        metadata = {
            name: _plain(_value(agent, name))
            for name in ("owner", "environment", "trust_level", "agent_type", "roles", "capabilities", "revoked")
        }
        return self._put(
            InventoryItem(
                "agent", agent_id, str(_value(agent, "name") or agent_id), metadata, self._now(), sources=(source,)
            )
        )

    def register_tool(self, tool: Any, *, source: str = "api") -> InventoryItem:
        """A tool from a ``ToolRecord``, a ``ToolIdentity`` or a mapping with the same fields. A tool from
        the tool registry is verified (its identity is checked against the registered hash)."""
        name = str(_value(tool, "tool_name") or "")
        if not name:
            raise ValueError("a tool needs a tool_name")
        metadata = {
            key: _plain(_value(tool, key))
            for key in ("version", "provider", "permissions_required", "data_access", "manifest_hash", "revoked")
        }
        verified = _value(tool, "verified")
        metadata["verified"] = bool(verified) if verified is not None else source == "registry"
        return self._put(InventoryItem("tool", name, name, metadata, self._now(), sources=(source,)))

    def register_plugin(self, plugin: Any, *, source: str = "api") -> InventoryItem:
        """A plugin: an object with ``name`` (and ``version``, ``fail_open``), or its name."""
        name = plugin if isinstance(plugin, str) else str(_value(plugin, "name") or type(plugin).__name__)
        metadata = (
            {}
            if isinstance(plugin, str)
            else {
                "version": _value(plugin, "version"),
                "fail_open": bool(_value(plugin, "fail_open", False)),
            }
        )
        return self._put(InventoryItem("plugin", name, name, metadata, self._now(), sources=(source,)))

    def register_mcp_server(self, name: str, metadata: Mapping[str, Any] | None = None) -> InventoryItem:
        return self._put(InventoryItem("mcp_server", name, name, dict(metadata or {}), self._now(), sources=("api",)))

    def get_all(self) -> list[InventoryItem]:
        with self._lock:
            return list(self._items.values())

    def get_by_type(self, item_type: ItemType) -> list[InventoryItem]:
        return [i for i in self.get_all() if i.type == item_type]

    def get(self, key: str) -> InventoryItem | None:
        with self._lock:
            return self._items.get(key)

    def remove(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._items)

    def __len__(self) -> int:
        return self.size

    def summary(self) -> dict[str, int]:
        """Items per type (types with no item are absent, as in the original)."""
        return dict(Counter(i.type for i in self.get_all()))

    get_summary = summary
    """The original's name (``getSummary``)."""

    # -- from the registries and the trail ---------------------------------------------------------
    def add_registries(self, agent_registry: Any = None, tool_registry: Any = None) -> None:
        """Every agent (revoked ones included, marked) and tool of the identity registries."""
        if agent_registry is not None:
            for record in agent_registry.list(include_revoked=True):
                self.register_agent(record, source="registry")
        if tool_registry is not None:
            for record in tool_registry.list(include_revoked=True):
                self.register_tool(record, source="registry")

    def add_trail(self, summary: TrailSummary) -> None:
        """Agents and tools that acted, and plugins a startup registered; unregistered ones are marked."""
        for agent_id, activity in summary.agents.items():
            if agent_id in (OTHER, "(unknown)"):
                continue
            if self.get(f"agent:{agent_id}") is None:
                envs = sorted(activity.environments)
                self._put(
                    InventoryItem(
                        "agent",
                        agent_id,
                        agent_id,
                        {"environment": envs[0] if len(envs) == 1 else None},
                        activity.first_seen,
                        registered=False,
                        sources=("audit",),
                    )
                )
        for tool in summary.tools:
            if tool != OTHER and self.get(f"tool:{tool}") is None:
                self._put(
                    InventoryItem("tool", tool, tool, {"verified": False}, None, registered=False, sources=("audit",))
                )
        for plugin in summary.registered_plugins:
            if self.get(f"plugin:{plugin}") is None:
                self._put(InventoryItem("plugin", plugin, plugin, {}, None, sources=("audit",)))

    @classmethod
    def build(
        cls,
        *,
        agent_registry: Any = None,
        tool_registry: Any = None,
        summary: TrailSummary | None = None,
        agents: Iterable[Any] = (),
        now: Any = None,
    ) -> PostureInventory:
        """An inventory from the registries, explicit agents and the trail summary, in that order."""
        inventory = cls(now=now)
        inventory.add_registries(agent_registry, tool_registry)
        for agent in agents:
            inventory.register_agent(agent)
        if summary is not None:
            inventory.add_trail(summary)
        return inventory
