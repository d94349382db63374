"""Session context: limit how many times a tool may be called within one session.

Reason code ``SESSION_LIMIT_EXCEEDED``, message ``Tool <tool> has been called <count> times in this
session (max: <max>)`` (as in Agent-SPM).

**Only allowed calls count.** A call reserves a slot in ``before_check`` with one atomic
:meth:`Store.admit` (admitted only while the counter is below the limit; a refused call reserves
nothing), and ``notify`` (which the pipeline calls with the *final* decision) releases the slot unless
that decision is ALLOW. So a call denied by policy, or an approval that is rejected or times out, does
not consume the session's budget (Agent-SPM counted every non-DENY outcome, W25), and concurrent calls
can never exceed the limit, because a slot is held from the check until the decision is final. While a
call is in flight its reservation is visible in the counts. A reservation whose ``notify`` never comes
(the pipeline must call it for every check that reached ``before_check``) stays counted: the error is on
the safe side. With the kill switch and the rate limiter on the same store, the reservation is made in
their one store call (:mod:`agent_security.core.builtin._admission`). A store that fails is a DENY
``STORE_UNAVAILABLE``.

**Lifetime.** A counter lives ``session_ttl_s`` from the session's first counted call of that tool (a
fixed window, as in Agent-SPM), kept by the store's TTL on the store's clock. Every counter lives in the
store and nowhere else: nothing in this process tracks sessions, and nothing but the TTL (or
:meth:`SessionContext.clear_session`) removes a counter, so processes sharing a store share every
session's budget. Memory is the store's to bound (the memory store drops expired counters first and never
a live claim or a kill); the session id is caller-chosen, so a bound never weakens a limit: a caller can
always open a new session. The in-flight reservations of this process are bounded
(:data:`MAX_PENDING`; the oldest past that stays counted).

**Tool names** are compared in the policy engine's normalised form
(:func:`~agent_security.core.policy.normalize.normalize_name`: case, width and invisible characters
folded), so ``Send_Email`` or ``send_email\u200b``, which the policy treats as ``send_email``, share its
limit and its counter.

Keys: ``session_context:<session>:<normalised tool>`` with both parts percent-encoded.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from agent_security.core._speedups.locks import YieldingLock
from agent_security.core.builtin import _admission
from agent_security.core.builtin._admission import Part
from agent_security.core.builtin._base import StoreBound, key_part
from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError, StoreError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, Outcome, PluginResult
from agent_security.core.normalize import normalize_name
from agent_security.core.store import AdmissionVerdict, CounterLimit, Store

__all__ = ["SessionContext", "session_context"]

_PREFIX = "session_context:"
MAX_PENDING = 100_000


def _counter_key(session_id: str, normalised_tool: str) -> str:
    return f"{_PREFIX}{key_part(session_id)}:{key_part(normalised_tool)}"


def _parts(session_id: str, tool_name: str) -> tuple[str, str]:
    """``tool_name`` normalised, and the counter key of ``(session_id, tool_name)``."""
    normalised = normalize_name(tool_name)
    return normalised, _counter_key(session_id, normalised)


_cached_parts = functools.lru_cache(maxsize=4096)(_parts)
""":func:`_parts` memoised: the same sessions and tools come back on every check (bounded, as key_part)."""


@functools.lru_cache(maxsize=4096)
def _counter_part(key: str, limit: int, ttl_s: float | None) -> Part:
    """The session counter a check reserves."""
    return Part(counters=(CounterLimit(key, limit, ttl_s),))


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

    def __init__(
        self,
        limits: Mapping[str, int | Mapping[str, int]] | None = None,
        session_ttl_s: float = 3600.0,
        max_sessions: int = 10_000,
        store: Store | None = None,
    ) -> None:
        if not (math.isfinite(session_ttl_s) and session_ttl_s > 0):
            raise ConfigurationError("session_ttl_s must be a positive number of seconds")
        if max_sessions < 1:
            raise ConfigurationError("max_sessions must be >= 1")
        super().__init__(store)
        self.limits: dict[str, int] = {normalize_name(str(t)): _limit(str(t), v) for t, v in (limits or {}).items()}
        self.session_ttl_s = float(session_ttl_s)
        self.max_sessions = int(max_sessions)
        """Accepted for compatibility; sessions are no longer tracked in the process (see the module)."""
        self._lock = YieldingLock()
        self._pending: OrderedDict[str, tuple[Store, str]] = OrderedDict()

    @staticmethod
    def _key(session_id: str, tool_name: str) -> str:
        return _counter_key(session_id, normalize_name(tool_name))

    # -- the check ----------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        store = self._store if self._bound else self._store_for(ctx.store)
        return _admission.admit(self, request, ctx, store)

    def _part(self, request: ActionRequest) -> Part | None:
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
        return _counter_part(key, limit, self.session_ttl_s)

    def _admitted(self, request: ActionRequest, part: Part) -> PluginResult | None:
        # The slot is reserved until the final decision: notify releases it unless that is ALLOW.
        (counter,) = part.counters
        with self._lock:
            pending = self._pending
            pending[request.request_id] = (self.store, counter.key)
            while len(pending) > MAX_PENDING:  # never released: stays counted (safe side)
                pending.popitem(last=False)
        return None

    def _refused(self, request: ActionRequest, part: Part, verdict: AdmissionVerdict) -> PluginResult | None:
        if verdict.refused != "counter":
            return None
        (counter,) = part.counters
        tool, count, limit = request.action.tool_name, verdict.counters[0], counter.limit
        name = self.name
        exact = type(tool) is str and type(count) is int and type(limit) is int
        memo = ("session", name, tool, count, limit) if exact else None
        return self._denial(
            memo,
            lambda: Decision.deny(
                "SESSION_LIMIT_EXCEEDED",
                f"Tool {tool} has been called {count} times in this session (max: {limit})",
                plugin_source=name,
            ),
        )

    def _alone_full(self) -> PluginResult:
        return self._store_failure()

    @hookimpl
    def agent_security_notify(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> None:
        with self._lock:
            pending = self._pending.pop(request.request_id, None)
        if pending is None or decision.outcome is Outcome.ALLOW:
            return
        store, key = pending
        # Give the slot back (nothing when the counter expired meanwhile). A store error here leaves the
        # slot counted: the safe side, and the decision is already final.
        try:
            store.release(key)
        except StoreError:
            return

    # -- queries ------------------------------------------------------------------------------
    def get_session_tool_count(self, session_id: str, tool_name: str) -> int:
        """Counted (and in-flight) calls of ``tool_name`` in ``session_id``."""
        return max(0, int(self._store.get(self._key(session_id, tool_name), 0)))

    def get_session_summary(self, session_id: str) -> dict[str, int]:
        """Tool name -> count for one session."""
        prefix = f"{_PREFIX}{key_part(session_id)}:"
        return {unquote(k[len(prefix) :]): max(0, int(v)) for k, v in self._store.scan(prefix).items()}

    def clear_session(self, session_id: str) -> None:
        """Forget every counter of ``session_id`` (in every process sharing the store)."""
        self._store.delete_prefix(f"{_PREFIX}{key_part(session_id)}:")

    def clear_all(self) -> None:
        """Forget every session's counters."""
        self._store.delete_prefix(_PREFIX)

    def __repr__(self) -> str:
        return f"SessionContext(limits={self.limits!r}, session_ttl_s={self.session_ttl_s:g})"


def session_context(
    limits: Mapping[str, int | Mapping[str, int]] | None = None,
    session_ttl_s: float = 3600.0,
    max_sessions: int = 10_000,
    store: Store | None = None,
) -> SessionContext:
    """Create a :class:`SessionContext` plugin. ``limits`` maps a tool name to its per-session maximum
    (an int, or Agent-SPM's ``{"maxPerSession": n}``)."""
    return SessionContext(limits, session_ttl_s, max_sessions, store)
