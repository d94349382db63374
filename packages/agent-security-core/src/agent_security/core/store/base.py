"""The store contract (version 2): every piece of mutable state that plugins share lives behind it.

Kill-switch flags, rate-limit windows, session counters, approval nonces, baselines and pending
approvals are kept in a :class:`Store`, so that a shared implementation (SQLite for the processes of one
machine, Redis for a fleet) replaces the in-memory one without touching a plugin. Every operation that
reads and then writes is **atomic in the store**, never in the caller, and every operation exists twice:
``get`` / ``aget``, ``admit`` / ``aadmit``, ... The asynchronous ones default to running the synchronous
one in a worker thread (correct for any store); a store answers them directly where it can without a thread.

* key/value with an optional TTL: ``get``, ``get_many``, ``set``, ``delete``, ``delete_prefix``, ``scan``;
* counters: ``incr`` (TTL set when the counter is created) and ``release`` (give back, never below 0);
* ``claim``: set-if-absent of a single-use token (approval nonces) kept until it expires, never dropped
  while live: a store that would have to forget a live claim to take a new one raises ``StoreFull``;
* ``admit``: the batched, atomic operation of one check. It reads *flags* (kill-switch keys), then admits
  every rate *window* and every *counter* (session limits) together: when a flag is set or any limit
  refuses, nothing is recorded. One call, so one round trip for a networked store;
* ``window_admit`` / ``window_count``: ``admit`` for windows only, and a window's count;
* ``publish`` / ``subscribe``: fan-out of small messages (kill-switch changes across processes);
  ``set_and_publish`` writes a key and publishes its change together (one transaction where the store has
  them). A store whose subscription was interrupted delivers :data:`RESYNC` to its subscribers once it is
  back: messages may have been lost, read the state again.

**Time.** Windows and TTLs are measured on the store's :class:`~agent_security.core.clock.Clock`
``time()``, seconds since the epoch, which every process on a machine (and hosts with synchronised
clocks) reads alike: a window opened by one hook process is the same window for the next one. Callers
never pass clock readings; ``now=`` exists only so that tests can place a call in time.

**Keys** are logical strings; plugins prefix them with their own name (``"kill_switch:agent:<id>"``) and
percent-encode identifiers. A store opened with a ``namespace`` prefixes every key and channel (see
:mod:`agent_security.core.store.keys`). **Values** are JSON-compatible (``None``, bool, int, float, str,
list, dict); ``None`` is never stored (a key holding it reads as missing).

**Failures.** Any operation may raise :class:`~agent_security.core.errors.StoreUnavailable` (the store is
down, locked past its timeout, or too slow), and the ones that create keys
:class:`~agent_security.core.errors.StoreFull`. Callers that decide (the built-in plugins) turn either into
a DENY: a store error never lets a call through.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeVar

from agent_security.core.clock import SYSTEM_CLOCK, Clock
from agent_security.core.store.keys import KeySpace

_T = TypeVar("_T")

__all__ = [
    "RESYNC",
    "AdmissionVerdict",
    "CounterLimit",
    "Store",
    "Subscriber",
    "TimeSource",
    "WindowLimit",
    "WindowVerdict",
    "time_source",
]

Subscriber = Callable[[str, Any], None]
RESYNC: dict[str, str] = {"op": "resync"}
"""The message a subscriber receives after its store reconnected: messages may have been missed."""
TimeSource = Clock | Callable[[], float]
"""A :class:`Clock` (its ``time()`` is read), or a function returning epoch seconds (tests)."""


class _FunctionTime:
    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[], float]) -> None:
        self._fn = fn

    def time(self) -> float:
        return self._fn()


def time_source(clock: TimeSource) -> Callable[[], float]:
    """The epoch-seconds reader of ``clock``."""
    if isinstance(clock, Clock):
        return clock.time
    if callable(clock):
        return _FunctionTime(clock).time
    raise TypeError(f"clock must be a Clock or a function returning epoch seconds, not {type(clock).__name__}")


class WindowLimit(NamedTuple):
    """A rate window to admit into: at most ``limit`` calls per ``window_s`` (``limit <= 0``: unlimited,
    counted only). See :mod:`agent_security.core.store.windows` for what is exact."""

    key: str
    limit: int
    window_s: float


class CounterLimit(NamedTuple):
    """A counter to add ``amount`` to if the result stays ``<= limit`` (``None``: no limit). ``ttl_s`` is
    set when the counter is created (a fixed window from its first increment), ``None``: durable."""

    key: str
    limit: int | None
    ttl_s: float | None = None
    amount: int = 1


class AdmissionVerdict(NamedTuple):
    """The result of :meth:`Store.admit` (an immutable tuple)."""

    admitted: bool
    flags: tuple[Any, ...]
    """The value of each flag key (``None``: not set)."""
    windows: tuple[int, ...]
    """Each window's count after this call (at the refusal when refused; empty when a flag refused)."""
    counters: tuple[int, ...]
    """Each counter's value after this call (before it when refused; empty when a flag refused)."""
    refused: Literal["flag", "window", "counter"] | None = None
    refused_index: int | None = None
    """Index of the first flag set, window or counter without room, in its own sequence."""


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """Result of :meth:`Store.window_admit`."""

    admitted: bool
    counts: tuple[int, ...]
    """Number of admitted events in each window *after* this call (unchanged when refused)."""
    refused_index: int | None = None
    """Index of the first window that had no room, when refused."""


class Store(ABC):
    """Abstract state store (see the module documentation). All methods are thread-safe."""

    def __init__(self, *, clock: TimeSource = SYSTEM_CLOCK, namespace: str | None = None) -> None:
        self._clock_obj = clock
        self._time = time_source(clock)
        self._keys = KeySpace(namespace)

    @property
    def clock(self) -> TimeSource:
        """The clock windows and TTLs are measured on."""
        return self._clock_obj

    @property
    def namespace(self) -> str | None:
        return self._keys.namespace

    def time(self) -> float:
        """The store's current time (epoch seconds)."""
        return self._time()

    # -- key/value -------------------------------------------------------------------------------
    @abstractmethod
    def get(self, key: str, default: Any = None) -> Any: ...

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        """``[get(k, default) for k in keys]``, read together (one round trip, a consistent snapshot in
        the stores of this package)."""
        return [self.get(key, default) for key in keys]

    @abstractmethod
    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Delete a key, a counter or a window; ``True`` when something was there."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key, counter and window whose key starts with ``prefix``; return how many. Not a
        check-path operation (resets, clearing a session): it may walk the keys of the namespace."""

    @abstractmethod
    def scan(self, prefix: str) -> dict[str, Any]:
        """Every live key/value key (and counter) starting with ``prefix`` and its value."""

    # -- counters and claims ---------------------------------------------------------------------
    @abstractmethod
    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to an integer (missing = 0) and return the new value. The TTL is set when the
        key is created and left alone afterwards (a fixed window from the first increment)."""

    @abstractmethod
    def release(self, key: str, amount: int = 1) -> int | None:
        """Subtract ``amount`` from a live counter, never below 0, keeping its TTL; return the new value,
        or ``None`` when the counter does not exist (expired: there is nothing to give back)."""

    @abstractmethod
    def claim(self, key: str, *, ttl_s: float) -> bool:
        """Create ``key`` if it does not exist (atomically) and keep it for ``ttl_s`` seconds: ``True`` for
        the first claim, ``False`` when it is already claimed (a replay). A live claim is never dropped,
        whatever else is written; when a new one cannot be kept, raise
        :class:`~agent_security.core.errors.StoreFull`."""

    # -- admission -------------------------------------------------------------------------------
    @abstractmethod
    def admit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        """One check's admission, atomically: read ``flags``; if none is set, and every window holds
        fewer calls than its limit, and every counter has room, record the call in every window and add
        to every counter; otherwise record nothing. A window (or counter) listed twice is admitted
        twice. ``now`` (tests only) replaces the store's clock."""

    def window_admit(
        self, keys: Sequence[str], limits: Sequence[int], *, window_s: float, now: float | None = None
    ) -> WindowVerdict:
        """:meth:`admit` with windows only, all of span ``window_s``."""
        if len(keys) != len(limits):
            raise ValueError("keys and limits must have the same length")
        verdict = self.admit((), [WindowLimit(k, lim, window_s) for k, lim in zip(keys, limits, strict=True)], now=now)
        return WindowVerdict(verdict.admitted, verdict.windows, verdict.refused_index)

    @abstractmethod
    def window_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        """Calls counted in the window ``key`` at ``now`` (default: the store's clock)."""

    # -- publish/subscribe -----------------------------------------------------------------------
    @abstractmethod
    def publish(self, channel: str, message: Any) -> None: ...

    def set_and_publish(self, key: str, value: Any, channel: str, message: Any, *, ttl_s: float | None = None) -> None:
        """``set(key, value)`` (``None``: delete) then ``publish(channel, message)``; a store with
        transactions does both in one (the Redis store: one ``MULTI``/``EXEC``)."""
        self.set(key, value, ttl_s=ttl_s)
        self.publish(channel, message)

    @abstractmethod
    def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(channel, message)`` for each message; returns an unsubscribe function.
        Callbacks may run on a thread of the store; an exception in one is not raised to the publisher."""

    def close(self) -> None:  # noqa: B027 - optional hook for implementations holding connections
        """Release connections and threads. The in-memory store has nothing to release."""

    # -- the asynchronous twins: correct for any store (a worker thread), overridden where direct -------
    async def aget(self, key: str, default: Any = None) -> Any:
        return await _in_thread(self.get, key, default)

    async def aget_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        return await _in_thread(self.get_many, keys, default)

    async def aset(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        await _in_thread(lambda: self.set(key, value, ttl_s=ttl_s))

    async def adelete(self, key: str) -> bool:
        return await _in_thread(self.delete, key)

    async def adelete_prefix(self, prefix: str) -> int:
        return await _in_thread(self.delete_prefix, prefix)

    async def ascan(self, prefix: str) -> dict[str, Any]:
        return await _in_thread(self.scan, prefix)

    async def aincr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        return await _in_thread(lambda: self.incr(key, amount, ttl_s=ttl_s))

    async def arelease(self, key: str, amount: int = 1) -> int | None:
        return await _in_thread(self.release, key, amount)

    async def aclaim(self, key: str, *, ttl_s: float) -> bool:
        return await _in_thread(lambda: self.claim(key, ttl_s=ttl_s))

    async def aadmit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        return await _in_thread(lambda: self.admit(flags, windows, counters, now=now))

    async def awindow_admit(
        self, keys: Sequence[str], limits: Sequence[int], *, window_s: float, now: float | None = None
    ) -> WindowVerdict:
        return await _in_thread(lambda: self.window_admit(keys, limits, window_s=window_s, now=now))

    async def awindow_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        return await _in_thread(lambda: self.window_count(key, window_s=window_s, now=now))

    async def apublish(self, channel: str, message: Any) -> None:
        await _in_thread(self.publish, channel, message)

    async def aclose(self) -> None:
        await _in_thread(self.close)


async def _in_thread(fn: Callable[..., _T], /, *args: Any) -> _T:
    """``asyncio.to_thread``, with asyncio imported on first use: a synchronous check in a fresh process
    (a host's hook) never needs it."""
    import asyncio

    return await asyncio.to_thread(fn, *args)
