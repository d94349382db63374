"""Rate limiter: sliding-window call limits per agent and per agent+tool.

Reason codes (messages as in Agent-SPM):

* ``RATE_LIMIT_AGENT``: ``Agent <id> exceeded <n> calls per <s>s``;
* ``RATE_LIMIT_TOOL``: ``Agent <id> exceeded <n> calls per <s>s for tool <tool>``;
* ``RATE_LIMIT_UNAVAILABLE``: the store cannot hold another window without forgetting a live one (a
  flood of caller-chosen tool names or agent ids): the call is refused rather than a budget reset.

Both windows are checked and recorded by one atomic :meth:`Store.window_admit` call, so the limits are
exact under any concurrency (and across processes with a shared store), and a refused call consumes
nothing. A window whose limit is 0 (unlimited) is not recorded at all: it would only hold one timestamp
per call for nothing. An admitted call is counted even if the policy later denies it: attempts are what is limited
(an agent hammering a denied tool is still slowed down).

The window clock is ``ctx.monotonic`` (the ``AgentSecurity`` instance's injectable monotonic clock). The
query methods take ``now=`` for the same reason; without it they read ``clock`` (default
:func:`time.monotonic`).

Keys are ``rate_limiter:<epoch>:<agent epoch>:a:<agent>`` and ``...:t:<agent>:<tool>`` with every
identifier percent-encoded, so ids containing ``:`` cannot collide. The tool part is the policy engine's
normalised name (``Send_Email`` counts as ``send_email``, as the policy sees it). :meth:`RateLimiter.reset_agent` and
:meth:`RateLimiter.reset` bump an epoch stored in the store instead of enumerating windows, which works
with any store (the abandoned windows age out or are evicted by the store's bound).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from agent_security.core._speedups import remember
from agent_security.core.builtin._base import StoreBound, key_part
from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, PluginResult
from agent_security.core.policy.normalize import normalize_name
from agent_security.core.store import Store, StoreFull

__all__ = ["RateLimiter", "rate_limiter"]

_PREFIX = "rate_limiter:"
_EPOCH_KEY = _PREFIX + "epoch"
_AGENT_EPOCH = _PREFIX + "epoch:"


def _seconds(window_s: float) -> str:
    return f"{window_s:g}"


def _parts(agent_id: str, tool_name: str) -> tuple[str, str, str]:
    """The parts of the keys of ``(agent_id, tool_name)`` that do not depend on the epochs: the agent's
    epoch key, ``a:<agent>`` and ``t:<agent>:<normalised tool>`` (identifiers percent-encoded)."""
    agent = key_part(agent_id)
    return _AGENT_EPOCH + agent, "a:" + agent, f"t:{agent}:{key_part(normalize_name(tool_name))}"


_KEY_CACHE_SIZE = 4096
_key_cache: dict[tuple[str, str], tuple[str, str, str, int, int, str, str]] = {}
"""``(agent id, tool name)`` -> its :func:`_parts`, then the two epochs it was last seen with and the two
window keys built from them. Bounded (emptied when full); exact strings only, as in key_part."""


class RateLimiter(StoreBound):
    """The rate-limiter plugin. Build it with :func:`rate_limiter`."""

    name = "rate_limiter"
    priority = 20
    fail_open = False

    def __init__(self, max_per_minute: int = 0, max_per_minute_per_tool: int = 0, window_s: float = 60.0,
                 store: Store | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_per_minute < 0 or max_per_minute_per_tool < 0:
            raise ConfigurationError("rate limits must be >= 0 (0 means unlimited)")
        if not (math.isfinite(window_s) and window_s > 0):
            raise ConfigurationError("window_s must be a positive number of seconds")
        super().__init__(store)
        self.max_per_minute = int(max_per_minute)
        self.max_per_minute_per_tool = int(max_per_minute_per_tool)
        self.window_s = float(window_s)
        self._clock = clock

    # -- keys ----------------------------------------------------------------------------------
    @staticmethod
    def _keys(store: Store, agent_id: str, tool_name: str) -> tuple[str, str]:
        # The same (agent, tool) pairs come back on every check: their encoded parts, and their keys for
        # the epochs last seen, are memoised (:data:`_key_cache`). The epochs themselves are read from the
        # store on every call, so a reset (from any process sharing the store) applies at once.
        if type(agent_id) is str and type(tool_name) is str:
            pair = (agent_id, tool_name)
            entry = _key_cache.get(pair)
            if entry is None:
                epoch_key, agent_part, tool_part = _parts(agent_id, tool_name)
            else:
                epoch_key, agent_part, tool_part = entry[0], entry[1], entry[2]
        else:
            pair = None
            entry = None
            epoch_key, agent_part, tool_part = _parts(agent_id, tool_name)
        epoch, agent_epoch = store.get_many((_EPOCH_KEY, epoch_key), 0)
        if type(epoch) is int and type(agent_epoch) is int:
            if entry is not None and entry[3] == epoch and entry[4] == agent_epoch:
                return entry[5], entry[6]
        else:
            epoch, agent_epoch = int(epoch), int(agent_epoch)
        base = f"{_PREFIX}{epoch}:{agent_epoch}:"
        agent_key, tool_key = base + agent_part, base + tool_part
        if pair is not None:
            remember(_key_cache, pair, (epoch_key, agent_part, tool_part, epoch, agent_epoch, agent_key, tool_key),
                     _KEY_CACHE_SIZE)
        return agent_key, tool_key

    # -- the check ----------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        return self._admit(request.agent.agent_id, request.action.tool_name, ctx.monotonic,
                           self._store if self._bound else self._store_for(ctx.store))

    def admit(self, agent_id: str, tool_name: str, *, now: float | None = None,
              store: Store | None = None) -> Decision | None:
        """Count one call if both windows have room and return ``None``; else the DENY (nothing counted)."""
        result = self._admit(agent_id, tool_name, now, store)
        return None if result is None else result.decision

    def _admit(self, agent_id: str, tool_name: str, now: float | None,
               store: Store | None) -> PluginResult | None:
        per_agent, per_tool = self.max_per_minute, self.max_per_minute_per_tool
        if per_agent <= 0 and per_tool <= 0:
            return None
        st = self._store if store is None else store
        t = self._clock() if now is None else now
        agent_key, tool_key = self._keys(st, agent_id, tool_name)
        # Only limited windows are recorded: an unlimited one would grow with every call of its window.
        keys: tuple[str, ...]
        limits: tuple[int, ...]
        if per_tool <= 0:
            keys, limits = (agent_key,), (per_agent,)
        elif per_agent <= 0:
            keys, limits = (tool_key,), (per_tool,)
        else:
            keys, limits = (agent_key, tool_key), (per_agent, per_tool)
        name = self.name
        try:
            verdict = st.window_admit(keys, limits, now=t, window_s=self.window_s)
        except StoreFull:
            return self._denial(("unavailable", name), lambda: Decision.deny(
                "RATE_LIMIT_UNAVAILABLE", "The rate limiter cannot track another window now (every window is in use)",
                plugin_source=name))
        if verdict.admitted:
            return None
        # Refused: the same denials come back on every call of a flood, so they are memoised (_denial).
        secs = _seconds(self.window_s)
        memo: tuple[object, ...] | None
        if keys[verdict.refused_index or 0] is agent_key:
            exact = type(agent_id) is str and type(per_agent) is int
            memo = ("agent", name, agent_id, per_agent, secs) if exact else None
            return self._denial(memo, lambda: Decision.deny(
                "RATE_LIMIT_AGENT", f"Agent {agent_id} exceeded {per_agent} calls per {secs}s",
                plugin_source=name))
        exact = type(agent_id) is str and type(tool_name) is str and type(per_tool) is int
        memo = ("tool", name, agent_id, tool_name, per_tool, secs) if exact else None
        return self._denial(memo, lambda: Decision.deny(
            "RATE_LIMIT_TOOL", f"Agent {agent_id} exceeded {per_tool} calls per {secs}s for tool {tool_name}",
            plugin_source=name))

    # -- queries and resets -------------------------------------------------------------------
    def get_count(self, agent_id: str, *, now: float | None = None) -> int:
        """Calls admitted for ``agent_id`` within the window ending at ``now`` (counted only while
        ``max_per_minute`` is set: an unlimited window is not recorded)."""
        key = self._keys(self._store, agent_id, "")[0]
        t = self._clock() if now is None else now
        return self._store.window_count(key, now=t, window_s=self.window_s)

    def get_tool_count(self, agent_id: str, tool_name: str, *, now: float | None = None) -> int:
        """Calls admitted for ``agent_id`` on ``tool_name`` within the window ending at ``now`` (counted
        only while ``max_per_minute_per_tool`` is set)."""
        key = self._keys(self._store, agent_id, tool_name)[1]
        t = self._clock() if now is None else now
        return self._store.window_count(key, now=t, window_s=self.window_s)

    def reset(self) -> None:
        """Forget every window (all agents)."""
        self._store.incr(_EPOCH_KEY)

    def reset_agent(self, agent_id: str) -> None:
        """Forget the windows of ``agent_id`` only (agent ``"a"`` never touches agent ``"a:b"``)."""
        self._store.incr(_AGENT_EPOCH + key_part(agent_id))

    def __repr__(self) -> str:
        return (f"RateLimiter(max_per_minute={self.max_per_minute}, "
                f"max_per_minute_per_tool={self.max_per_minute_per_tool}, window_s={self.window_s:g})")


def rate_limiter(max_per_minute: int = 0, max_per_minute_per_tool: int = 0, window_s: float = 60.0,
                 store: Store | None = None, *, clock: Callable[[], float] = time.monotonic) -> RateLimiter:
    """Create a :class:`RateLimiter` plugin. A limit of 0 means unlimited."""
    return RateLimiter(max_per_minute, max_per_minute_per_tool, window_s, store, clock=clock)
