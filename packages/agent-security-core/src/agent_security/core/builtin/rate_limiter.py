"""Rate limiter: sliding-window call limits per agent and per agent+tool.

Reason codes (messages as in Agent-SPM):

* ``RATE_LIMIT_AGENT``: ``Agent <id> exceeded <n> calls per <s>s``;
* ``RATE_LIMIT_TOOL``: ``Agent <id> exceeded <n> calls per <s>s for tool <tool>``;
* ``RATE_LIMIT_UNAVAILABLE``: the store cannot hold another window without forgetting a live one (a
  flood of caller-chosen tool names or agent ids): the call is refused rather than a budget reset.

Both windows are checked and recorded by one atomic :meth:`Store.admit` call, so the limits hold
under any concurrency (and across processes with a shared store), and a refused call consumes nothing.
With the kill switch and the session context on the same store, that one call also reads the kill flags
and reserves the session slot (:mod:`agent_security.core.builtin._admission`): a killed agent, or a call
over its session limit, consumes no rate budget. A window whose limit is 0 (unlimited) is not recorded at
all. An admitted call is counted even if the policy later denies it: attempts are what is limited (an
agent hammering a denied tool is still slowed down).

**What is exact.** Windows are measured on the store's clock (epoch seconds, the same in every process).
With a limit of at most 64 the window keeps each admitted call's time: a call is refused exactly when
``limit`` calls were admitted in the preceding ``window_s``. Above 64, calls are counted in 64 slots of
``window_s / 64``: never more than ``limit`` calls in any ``window_s``, and a call may be refused up to
one slot early. Either way a window holds at most 65 entries, whatever the traffic
(:mod:`agent_security.core.store.windows`). The query methods take ``now=`` for tests.

A store that fails is a DENY ``STORE_UNAVAILABLE``.

Keys are ``rate_limiter:a:<agent>`` and ``rate_limiter:t:<agent>:<tool>`` with every identifier
percent-encoded, so ids containing ``:`` cannot collide. The tool part is the policy engine's normalised
name (``Send_Email`` counts as ``send_email``, as the policy sees it). :meth:`RateLimiter.reset_agent` and
:meth:`RateLimiter.reset` delete the windows (in every process sharing the store).
"""

from __future__ import annotations

import functools
import math

from agent_security.core._speedups import remember
from agent_security.core.builtin import _admission
from agent_security.core.builtin._admission import Part
from agent_security.core.builtin._base import StoreBound, key_part
from agent_security.core.context import CheckContext
from agent_security.core.errors import ConfigurationError, StoreError
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import ActionRequest, Decision, PluginResult
from agent_security.core.normalize import canonical_agent_id, normalize_name
from agent_security.core.store import AdmissionVerdict, Store, StoreFull, WindowLimit

__all__ = ["RateLimiter", "rate_limiter"]

_PREFIX = "rate_limiter:"
_AGENT = _PREFIX + "a:"
_TOOL = _PREFIX + "t:"


def _seconds(window_s: float) -> str:
    return f"{window_s:g}"


def _keys(agent_id: str, tool_name: str) -> tuple[str, str]:
    """The window keys of ``(agent_id, tool_name)``: ``a:<agent>`` and ``t:<agent>:<normalised tool>``
    (identifiers percent-encoded)."""
    agent = key_part(canonical_agent_id(agent_id))
    return _AGENT + agent, f"{_TOOL}{agent}:{key_part(normalize_name(tool_name))}"


_KEY_CACHE_SIZE = 4096
_key_cache: dict[tuple[str, str], tuple[str, str]] = {}
"""``(agent id, tool name)`` -> its two window keys. Bounded (emptied when full); exact strings only, as
in key_part."""


def _cached_keys(agent_id: str, tool_name: str) -> tuple[str, str]:
    if type(agent_id) is str and type(tool_name) is str:
        pair = (agent_id, tool_name)
        keys = _key_cache.get(pair)
        if keys is None:
            keys = _keys(agent_id, tool_name)
            remember(_key_cache, pair, keys, _KEY_CACHE_SIZE)
        return keys
    return _keys(agent_id, tool_name)


@functools.lru_cache(maxsize=4096)
def _window_part(agent_key: str, tool_key: str, per_agent: int, per_tool: int, span: float) -> Part:
    """The windows a check admits: only limited windows are recorded (an unlimited one would count every
    call for nothing)."""
    if per_tool <= 0:
        return Part(windows=(WindowLimit(agent_key, per_agent, span),))
    if per_agent <= 0:
        return Part(windows=(WindowLimit(tool_key, per_tool, span),))
    return Part(windows=(WindowLimit(agent_key, per_agent, span), WindowLimit(tool_key, per_tool, span)))


class RateLimiter(StoreBound):
    """The rate-limiter plugin. Build it with :func:`rate_limiter`."""

    name = "rate_limiter"
    priority = 20
    fail_open = False

    def __init__(
        self,
        max_per_minute: int = 0,
        max_per_minute_per_tool: int = 0,
        window_s: float = 60.0,
        store: Store | None = None,
    ) -> None:
        if max_per_minute < 0 or max_per_minute_per_tool < 0:
            raise ConfigurationError("rate limits must be >= 0 (0 means unlimited)")
        if not (math.isfinite(window_s) and window_s > 0):
            raise ConfigurationError("window_s must be a positive number of seconds")
        super().__init__(store)
        self.max_per_minute = int(max_per_minute)
        self.max_per_minute_per_tool = int(max_per_minute_per_tool)
        self.window_s = float(window_s)

    # -- the check ----------------------------------------------------------------------------
    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult | None:
        store = self._store if self._bound else self._store_for(ctx.store)
        return _admission.admit(self, request, ctx, store)

    def admit(
        self, agent_id: str, tool_name: str, *, now: float | None = None, store: Store | None = None
    ) -> Decision | None:
        """Count one call if both windows have room and return ``None``; else the DENY (nothing counted).
        ``now`` (tests) replaces the store's clock."""
        part = self._windows(agent_id, tool_name)
        if part is None:
            return None
        st = self._store if store is None else store
        try:
            verdict = st.admit((), part.windows, (), now=now)
        except StoreFull:
            return self._alone_full().decision
        except StoreError:
            return self._store_failure().decision
        result = self._refusal(agent_id, tool_name, part, verdict)
        return None if result is None else result.decision

    def _windows(self, agent_id: str, tool_name: str) -> Part | None:
        per_agent, per_tool = self.max_per_minute, self.max_per_minute_per_tool
        if per_agent <= 0 and per_tool <= 0:
            return None
        agent_key, tool_key = _cached_keys(agent_id, tool_name)
        return _window_part(agent_key, tool_key, per_agent, per_tool, self.window_s)

    def _part(self, request: ActionRequest) -> Part | None:
        return self._windows(request.agent.agent_id, request.action.tool_name)

    def _admitted(self, request: ActionRequest, part: Part) -> PluginResult | None:
        return None

    def _refused(self, request: ActionRequest, part: Part, verdict: AdmissionVerdict) -> PluginResult | None:
        return self._refusal(request.agent.agent_id, request.action.tool_name, part, verdict)

    def _alone_full(self) -> PluginResult:
        name = self.name
        return self._denial(
            ("unavailable", name),
            lambda: Decision.deny(
                "RATE_LIMIT_UNAVAILABLE",
                "The rate limiter cannot track another window now (every window is in use)",
                plugin_source=name,
            ),
        )

    def _refusal(self, agent_id: str, tool_name: str, part: Part, verdict: AdmissionVerdict) -> PluginResult | None:
        if verdict.refused != "window" or verdict.refused_index is None:
            return None
        # Refused: the same denials come back on every call of a flood, so they are memoised (_denial).
        name = self.name
        secs = _seconds(self.window_s)
        refused = part.windows[verdict.refused_index]
        if refused.key.startswith(_AGENT):
            per_agent = refused.limit
            exact = type(agent_id) is str
            memo: tuple[object, ...] | None = ("agent", name, agent_id, per_agent, secs) if exact else None
            return self._denial(
                memo,
                lambda: Decision.deny(
                    "RATE_LIMIT_AGENT", f"Agent {agent_id} exceeded {per_agent} calls per {secs}s", plugin_source=name
                ),
            )
        per_tool = refused.limit
        exact = type(agent_id) is str and type(tool_name) is str
        memo = ("tool", name, agent_id, tool_name, per_tool, secs) if exact else None
        return self._denial(
            memo,
            lambda: Decision.deny(
                "RATE_LIMIT_TOOL",
                f"Agent {agent_id} exceeded {per_tool} calls per {secs}s for tool {tool_name}",
                plugin_source=name,
            ),
        )

    # -- queries and resets -------------------------------------------------------------------
    def get_count(self, agent_id: str, *, now: float | None = None) -> int:
        """Calls admitted for ``agent_id`` within the window ending at ``now`` (default: the store's clock;
        counted only while ``max_per_minute`` is set: an unlimited window is not recorded)."""
        return self._store.window_count(_cached_keys(agent_id, "")[0], window_s=self.window_s, now=now)

    def get_tool_count(self, agent_id: str, tool_name: str, *, now: float | None = None) -> int:
        """Calls admitted for ``agent_id`` on ``tool_name`` within the window ending at ``now`` (counted
        only while ``max_per_minute_per_tool`` is set)."""
        return self._store.window_count(_cached_keys(agent_id, tool_name)[1], window_s=self.window_s, now=now)

    def reset(self) -> None:
        """Forget every window (all agents, in every process sharing the store)."""
        self._store.delete_prefix(_PREFIX)

    def reset_agent(self, agent_id: str) -> None:
        """Forget the windows of ``agent_id`` only (agent ``"a"`` never touches agent ``"a:b"``)."""
        agent = key_part(canonical_agent_id(agent_id))
        self._store.delete(_AGENT + agent)
        self._store.delete_prefix(f"{_TOOL}{agent}:")

    def __repr__(self) -> str:
        return (
            f"RateLimiter(max_per_minute={self.max_per_minute}, "
            f"max_per_minute_per_tool={self.max_per_minute_per_tool}, window_s={self.window_s:g})"
        )


def rate_limiter(
    max_per_minute: int = 0, max_per_minute_per_tool: int = 0, window_s: float = 60.0, store: Store | None = None
) -> RateLimiter:
    """Create a :class:`RateLimiter` plugin. A limit of 0 means unlimited."""
    return RateLimiter(max_per_minute, max_per_minute_per_tool, window_s, store)
