"""Session context: limit how many times a tool may be called within one session.

Reason code ``SESSION_LIMIT_EXCEEDED``, message ``Tool <tool> has been called <count> times in this
session (max: <max>)`` (as in Agent-SPM).

**Only allowed calls count.** A call reserves a slot in ``before_check`` with one atomic
:meth:`Store.incr` (a reservation past the limit is undone at once and the call is denied), and
``notify`` (which the pipeline calls with the *final* decision) releases the slot unless that decision
is ALLOW. So a call denied by policy, or an approval that is rejected or times out, does not consume the
session's budget (Agent-SPM counted every non-DENY outcome, W25), and concurrent calls can never exceed
the limit, because a slot is held from the check until the decision is final. While a call is in flight
its reservation is visible in the counts. A reservation whose ``notify`` never comes (the pipeline must
call it for every check that reached ``before_check``) stays counted: the error is on the safe side.

**Lifetime.** A counter lives ``session_ttl_s`` from the session's first counted call of that tool (a
fixed window, as in Agent-SPM), kept by the store's TTL. At most ``max_sessions`` sessions are tracked
by this process; past that, the least recently used session is forgotten (its counters deleted). The
session id is caller-chosen, so this bound never weakens a limit: a caller can always open a new session.
Each tracked session remembers which of its tools it counted, so forgetting one deletes exactly those
keys: a flood of new session ids never makes a check enumerate the store.

**Tool names** are compared in the policy engine's normalised form
(:func:`~agent_security.core.policy.normalize.normalize_name`: case, width and invisible characters
folded), so ``Send_Email`` or ``send_email\u200b``, which the policy treats as ``send_email``, share its
limit and its counter.

Keys: ``session_context:<session>:<normalised tool>`` with both parts percent-encoded.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from agent_security.core.builtin._base import StoreBound, key_part
from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, Outcome, PluginResult
from agent_security.core.policy.normalize import normalize_name
from agent_security.core.store import Store

__all__ = ["SessionContext", "session_context"]

_PREFIX = "session_context:"
_ALLOW = Outcome.ALLOW  # read once (an Enum class attribute is slow to read on Python 3.11)
MAX_PENDING = 100_000


def _counter_key(session_id: str, normalised_tool: str) -> str:
    return f"{_PREFIX}{key_part(session_id)}:{key_part(normalised_tool)}"


def _parts(session_id: str, tool_name: str) -> tuple[str, str]:
    """``tool_name`` normalised, and the counter key of ``(session_id, tool_name)``."""
    normalised = normalize_name(tool_name)
    return normalised, _counter_key(session_id, normalised)


_cached_parts = functools.lru_cache(maxsize=4096)(_parts)
""":func:`_parts` memoised: the same sessions and tools come back on every check (bounded, as key_part)."""


def _limit(tool: str, value: Any) -> int:
    if isinstance(value, Mapping):
        value = value.get("max_per_session", value.get("maxPerSession"))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"session limit for tool {tool!r} must be an integer >= 0")
    return value


class SessionContext(StoreBound):
    """The session-context plugin. Build it with :func:`session_context`."""

    name = "session_context"
    priority = 30
    fail_open = False

    def __init__(self, limits: Mapping[str, int | Mapping[str, int]] | None = None,
                 session_ttl_s: float = 3600.0, max_sessions: int = 10_000,
                 store: Store | None = None) -> None:
        if not (math.isfinite(session_ttl_s) and session_ttl_s > 0):
            raise ConfigurationError("session_ttl_s must be a positive number of seconds")
        if max_sessions < 1:
            raise ConfigurationError("max_sessions must be >= 1")
        super().__init__(store)
        self.limits: dict[str, int] = {normalize_name(str(t)): _limit(str(t), v) for t, v in (limits or {}).items()}
        self.session_ttl_s = float(session_ttl_s)
        self.max_sessions = int(max_sessions)
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, set[str]] = OrderedDict()  # session -> normalised tools counted
        self._pending: OrderedDict[str, tuple[Store, str]] = OrderedDict()

    @staticmethod
    def _key(session_id: str, tool_name: str) -> str:
        return _counter_key(session_id, normalize_name(tool_name))

    def _touch_locked(self, session_id: str, tool: str) -> list[tuple[str, set[str]]] | None:
        """Mark ``session_id`` (counting normalised ``tool``) most recently used and take the least recently
        used sessions past ``max_sessions`` out (the caller holds ``self._lock``, then deletes their
        counters with :meth:`_forget` once it has released it)."""
        sessions = self._sessions
        tools = sessions.get(session_id)
        if tools is None:
            sessions[session_id] = tools = set()
        else:
            sessions.move_to_end(session_id)
        tools.add(tool)
        if len(sessions) <= self.max_sessions:
            return None
        evicted = []
        while len(sessions) > self.max_sessions:
            evicted.append(sessions.popitem(last=False))
        return evicted

    @staticmethod
    def _forget(store: Store, evicted: list[tuple[str, set[str]]]) -> None:
        for sid, counted in evicted:
            for name in counted:
                store.delete(_counter_key(sid, name))

    # -- the check ----------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        session_id = request.context.session_id
        if not session_id:
            return None
        tool = request.action.tool_name
        if type(session_id) is str and type(tool) is str:
            normalised, key = _cached_parts(session_id, tool)
        else:
            normalised, key = _parts(session_id, tool)
        limit = self.limits.get(normalised)
        if limit is None:
            return None
        store = self._store if self._bound else self._store_for(ctx.store)
        ttl_s = self.session_ttl_s
        count = store.incr(key, 1, ttl_s=ttl_s)
        if count > limit:
            store.incr(key, -1, ttl_s=ttl_s)
            lock = self._lock
            lock.acquire()  # (as below: cheaper than a with block compiled; every call of a used-up tool comes here)
            try:
                evicted = self._touch_locked(session_id, normalised)
            finally:
                lock.release()
            if evicted:
                self._forget(store, evicted)
            name = self.name
            exact = type(tool) is str and type(count) is int and type(limit) is int
            memo = ("session", name, tool, count, limit) if exact else None
            return self._denial(memo, lambda: Decision.deny(
                "SESSION_LIMIT_EXCEEDED",
                f"Tool {tool} has been called {count - 1} times in this session (max: {limit})",
                plugin_source=name))
        # One lock section per check: the session is marked used and the reservation recorded together,
        # once the reservation is made (acquire/release: cheaper than a with block).
        lock = self._lock
        lock.acquire()
        try:
            evicted = self._touch_locked(session_id, normalised)
            pending = self._pending
            pending[request.request_id] = (store, key)
            while len(pending) > MAX_PENDING:  # never released: stays counted (safe side)
                pending.popitem(last=False)
        finally:
            lock.release()
        if evicted:
            self._forget(store, evicted)
        return None

    @hookimpl
    def agent_security_notify(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> None:
        lock = self._lock
        lock.acquire()
        try:
            pending = self._pending.pop(request.request_id, None)
        finally:
            lock.release()
        if pending is None or decision.outcome is _ALLOW:
            return
        store, key = pending
        # Release the slot. If the counter expired meanwhile there is nothing to give back (and a
        # decrement would create a negative counter).
        if store.get(key) is not None:
            store.incr(key, -1, ttl_s=self.session_ttl_s)

    # -- queries ------------------------------------------------------------------------------
    def get_session_tool_count(self, session_id: str, tool_name: str) -> int:
        """Counted (and in-flight) calls of ``tool_name`` in ``session_id``."""
        return max(0, int(self._store.get(self._key(session_id, tool_name), 0)))

    def get_session_summary(self, session_id: str) -> dict[str, int]:
        """Tool name -> count for one session."""
        prefix = f"{_PREFIX}{key_part(session_id)}:"
        return {unquote(k[len(prefix):]): max(0, int(v)) for k, v in self._store.scan(prefix).items()}

    def clear_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
        self._delete_session(self._store, session_id)

    def clear_all(self) -> None:
        with self._lock:
            self._sessions.clear()
        for key in self._store.scan(_PREFIX):
            self._store.delete(key)

    @staticmethod
    def _delete_session(store: Store, session_id: str) -> None:
        for key in store.scan(f"{_PREFIX}{key_part(session_id)}:"):
            store.delete(key)

    @property
    def tracked_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)

    def __repr__(self) -> str:
        return f"SessionContext(limits={self.limits!r}, session_ttl_s={self.session_ttl_s:g})"


def session_context(limits: Mapping[str, int | Mapping[str, int]] | None = None,
                    session_ttl_s: float = 3600.0, max_sessions: int = 10_000,
                    store: Store | None = None) -> SessionContext:
    """Create a :class:`SessionContext` plugin. ``limits`` maps a tool name to its per-session maximum
    (an int, or Agent-SPM's ``{"maxPerSession": n}``)."""
    return SessionContext(limits, session_ttl_s, max_sessions, store)
