"""Store keys: the namespace that prefixes every key, and Redis Cluster hash tags.

A store is opened with an optional ``namespace`` (``"app:tenant"``). Callers always speak in *logical*
keys (``"kill_switch:global"``); the store turns each into a *physical* key with
:meth:`KeySpace.physical`, and hands logical keys back from :meth:`~agent_security.core.store.Store.scan`.
Two stores with different namespaces share nothing, even on one database or Redis server.

**Hash tags.** A physical key's hash tag is its first non-empty ``{...}`` segment, as Redis Cluster reads
it: keys with the same tag land on one slot, so one atomic operation (a Lua script, a transaction) may
touch all of them. A namespace is written as the tag (``{app:tenant}:kill_switch:global``), so every key
of a namespace shares one slot and every multi-key operation of the store contract (``get_many``,
``admit``, ``window_admit``) is legal on a cluster (the Redis store always has one: ``agent-security``
unless configured). Without a namespace, logical keys are used as they are: a key may carry its own
tag (:func:`tagged`) to keep related keys together, and a clustered store must refuse a multi-key call
whose keys do not share a slot (:func:`same_slot`).

Identifiers inside keys (agent ids, tool names, sessions) are percent-encoded by the plugins
(``agent_security.core.builtin._base.key_part``), which escapes ``{``, ``}`` and ``:``: a caller-chosen id
can neither open a hash tag nor reach into another key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_NAMESPACE_CHARS", "KeySpace", "hash_tag", "same_slot", "tagged"]

MAX_NAMESPACE_CHARS = 128
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:\-]+")


def hash_tag(key: str) -> str | None:
    """The Redis Cluster hash tag of ``key``: the text between its first ``{`` and the first ``}`` after
    it, when that text is not empty; else ``None`` (the whole key is hashed)."""
    start = key.find("{")
    if start < 0:
        return None
    end = key.find("}", start + 1)
    if end <= start + 1:
        return None
    return key[start + 1 : end]


def same_slot(keys: Iterable[str]) -> bool:
    """True when every physical key in ``keys`` carries the same hash tag (or there is at most one key)."""
    tags = {hash_tag(k) or k for k in keys}
    return len(tags) <= 1


def tagged(part: str) -> str:
    """``part`` as a hash tag, for a logical key whose related keys must share a slot when the store has
    no namespace. ``part`` must not contain braces (encode identifiers first)."""
    if "{" in part or "}" in part or not part:
        raise ValueError("a hash tag must be non-empty and contain no braces")
    return "{" + part + "}"


class KeySpace:
    """The mapping between logical and physical keys of one store (see the module documentation)."""

    __slots__ = ("namespace", "prefix")

    def __init__(self, namespace: str | None = None) -> None:
        if namespace is not None and (
            not (0 < len(namespace) <= MAX_NAMESPACE_CHARS) or not _NAMESPACE.fullmatch(namespace)
        ):
            raise ValueError(
                f"a store namespace is 1-{MAX_NAMESPACE_CHARS} characters of letters, digits, "
                f"'_', '.', ':' and '-', not {namespace!r}"
            )
        self.namespace = namespace
        self.prefix = "" if namespace is None else "{" + namespace + "}:"

    def physical(self, key: str) -> str:
        """The key as the backend stores it."""
        return self.prefix + key

    def logical(self, physical: str) -> str:
        """The inverse of :meth:`physical` (for a key of this namespace)."""
        return physical[len(self.prefix) :]

    def channel(self, channel: str) -> str:
        """A publish/subscribe channel in this namespace."""
        return self.prefix + channel

    def __repr__(self) -> str:
        return f"KeySpace({self.namespace!r})"
