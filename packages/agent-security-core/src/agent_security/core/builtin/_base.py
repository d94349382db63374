"""Shared plumbing of the built-in plugins: which store a plugin uses, and collision-free keys.

**Which store.** Every built-in plugin keeps its mutable state in a core
:class:`~agent_security.core.store.Store` so that a shared implementation (Redis) later makes it
fleet-wide. The rule is the same for all four:

1. a ``store=`` passed to the factory is always used;
2. otherwise the plugin binds to the first store it is given: :meth:`StoreBound.bind_store` (which
   ``AgentSecurity.register_plugin`` calls with the instance's store) or, failing that, the ``ctx.store``
   of the first check it sees;
3. until then (e.g. ``ks.kill("x")`` before the plugin is registered) it uses a private
   :class:`~agent_security.core.store.MemoryStore`; on binding, state that must not be lost (kill-switch
   kills) is carried over to the bound store.

Once bound, a plugin keeps its store: one plugin object serves one ``AgentSecurity``.

**Which host.** ``bind_host(host)`` (called by ``AgentSecurity.register_plugin``) hands the plugin the
:class:`~agent_security.core.host.Host` of its instance: the kill switch records its changes in the audit
trail through it, and the kill switch, rate limiter and session context find each other through it to
admit a check in one store call (:mod:`agent_security.core.builtin._admission`).

**Store failures.** A store that is unreachable, locked past its timeout or otherwise failing
(:class:`~agent_security.core.errors.StoreError`) makes the check DENY with reason code
``STORE_UNAVAILABLE``: the built-ins fail closed.

**Keys.** Identifiers (agent ids, tool names, session ids) are caller-chosen strings and may contain the
``:`` separator. Every identifier is percent-encoded before it is joined into a key (:func:`key_part`), so
agent ``"a:b"`` and agent ``"a"`` + tool ``"b"`` can never share a key, and a prefix built from one
identifier never matches another identifier's keys.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import quote

from agent_security.core._speedups import remember
from agent_security.core.models import Decision, PluginResult
from agent_security.core.store import MemoryStore, Store

__all__ = ["STORE_UNAVAILABLE", "StoreBound", "key_part"]

STORE_UNAVAILABLE = "STORE_UNAVAILABLE"

MAX_DENIALS = 1_024
"""Denials a plugin memoises (:meth:`StoreBound._denial`) before it forgets them all."""


@functools.lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    return quote(value, safe="")


def key_part(value: str) -> str:
    """Encode one identifier for use inside a store key: no ``:`` (and no ``%``) survives unescaped.

    The same few identifiers (agent ids, tool names, sessions) come back on every check, so encodings
    are memoised in a bounded LRU cache (4,096 entries: caller-chosen ids cannot grow it).
    """
    return _quoted(value) if type(value) is str else quote(value, safe="")


class StoreBound:
    """Mixin: the store-resolution rule documented in this module."""

    def __init__(self, store: Store | None) -> None:
        self._bind_lock = threading.Lock()
        self._explicit_store = store is not None
        self._bound = store is not None
        self._store: Store = store if store is not None else MemoryStore()
        self._denials: dict[Hashable, PluginResult] = {}
        self._host: Any = None

    @property
    def host(self) -> Any:
        """The :class:`~agent_security.core.host.Host` this plugin was registered with (``None`` before)."""
        return self._host

    def bind_host(self, host: Any) -> None:
        """Remember the host of the instance this plugin is registered with (see the module documentation)."""
        self._host = host

    def _host_of(self, ctx: Any) -> Any:
        """The host of the running check: the bound one, else the one the check context carries."""
        host = self._host
        if host is None:
            host = getattr(ctx, "host", None) or getattr(ctx, "security", None)
        return host

    def _store_failure(self) -> PluginResult:
        """The DENY of a check whose state could not be read or written (fail closed)."""
        name: str = getattr(self, "name", type(self).__name__)
        return self._denial(
            (STORE_UNAVAILABLE, name),
            lambda: Decision.deny(
                STORE_UNAVAILABLE, f"The {name} state store is unavailable; the call is refused", plugin_source=name
            ),
        )

    @property
    def store(self) -> Store:
        """The store this plugin currently reads and writes."""
        return self._store

    @property
    def store_bound(self) -> bool:
        """True once the plugin uses an explicit or bound store (not its private placeholder)."""
        return self._bound

    def bind_store(self, store: Store) -> None:
        """Use ``store`` from now on, unless a store was given explicitly or one is already bound.

        Called by ``AgentSecurity.register_plugin``; harmless to call more than once.
        """
        with self._bind_lock:
            if self._bound:
                return
            # Migrate first, switch second: no check can see the new store without the carried-over state.
            self._migrate(self._store, store)
            self._store = store
            self._bound = True

    def _store_for(self, ctx_store: Store | None) -> Store:
        if not self._bound and ctx_store is not None:
            self.bind_store(ctx_store)
        return self._store

    def _denial(self, key: Hashable | None, make: Callable[[], Decision]) -> PluginResult:
        """``PluginResult(decision=make())``, memoised under ``key`` (``None``: not memoised).

        The same denials come back on every check (a killed agent, a used-up session limit). Both are
        frozen models, so one instance serves every such check (the policy engine shares its rules'
        decisions the same way). ``key`` must determine the decision entirely; at most
        :data:`MAX_DENIALS` are kept (all forgotten when full).
        """
        if key is not None:
            found = self._denials.get(key)
            if found is not None:
                return found
        result = PluginResult(decision=make())
        if key is not None:
            remember(self._denials, key, result, MAX_DENIALS)
        return result

    def _migrate(self, old: Store, new: Store) -> None:
        """Carry state over from the placeholder store; plugins that need it override this."""
