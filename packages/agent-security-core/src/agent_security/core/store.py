"""The state store: every piece of mutable state that plugins share lives behind this interface.

Kill-switch state, rate-limit windows, session counters, baselines and pending approvals are kept in a
:class:`Store`, so that a shared implementation (Redis, for a fleet of processes) can replace the
in-memory one without touching a plugin. The contract is small on purpose and every operation that reads
and then writes is **atomic** in the store, never in the caller:

* key/value with optional TTL (``get``, ``set``, ``delete``, ``scan``)
* ``incr``: atomic counter with optional TTL
* ``claim``: atomic set-if-absent of a single-use token (approval nonces) that the store must keep until it
  expires: an implementation that would have to drop a live claim to make room refuses the new one
  (:class:`StoreFull`) instead, so a flood of other keys can never make a used token usable again
* ``window_admit``: sliding-window rate limiting over several keys at once; the call is admitted (and
  recorded in every window) only if every window has room, so a refused call consumes nothing
* ``publish`` / ``subscribe``: fan-out of small messages (kill-switch changes across processes)

Values are JSON-compatible (``None``, bool, int, float, str, list, dict); implementations may serialise.
Keys are strings; plugins prefix them with their own name (``"kill_switch:agent:<id>"``).
"""

from __future__ import annotations

import copy
import heapq
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent_security.core.errors import StoreFull

__all__ = ["MemoryStore", "Store", "StoreFull", "WindowVerdict"]

Subscriber = Callable[[str, Any], None]

_IMMUTABLE: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Value types returned without a defensive copy (nothing in them can be mutated)."""


def _copy(value: Any) -> Any:
    return value if type(value) in _IMMUTABLE else copy.deepcopy(value)


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """Result of :meth:`Store.window_admit`."""

    admitted: bool
    counts: tuple[int, ...]
    """Number of admitted events in each window *after* this call (unchanged when refused)."""
    refused_index: int | None = None
    """Index of the first window that had no room, when refused."""


_new_verdict = object.__new__
_set_admitted = WindowVerdict.__dict__["admitted"].__set__
_set_counts = WindowVerdict.__dict__["counts"].__set__
_set_refused = WindowVerdict.__dict__["refused_index"].__set__


def _verdict(admitted: bool, counts: tuple[int, ...], refused_index: int | None) -> WindowVerdict:
    """``WindowVerdict(admitted, counts, refused_index)`` at half the cost: the frozen dataclass's
    ``__init__`` goes through ``object.__setattr__`` once per field, this writes the three slots directly
    (the class has no ``__post_init__``, so the result is the same object)."""
    verdict = _new_verdict(WindowVerdict)
    _set_admitted(verdict, admitted)
    _set_counts(verdict, counts)
    _set_refused(verdict, refused_index)
    return verdict


class Store(ABC):
    """Abstract state store. All methods are thread-safe."""

    @abstractmethod
    def get(self, key: str, default: Any = None) -> Any: ...

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        """``[get(k, default) for k in keys]``, read together (one round trip for a networked store, one
        lock for the memory store). Not atomic across keys unless the implementation says so."""
        return [self.get(key, default) for key in keys]

    @abstractmethod
    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> bool: ...

    @abstractmethod
    def scan(self, prefix: str) -> dict[str, Any]:
        """Every live key starting with ``prefix`` and its value."""

    @abstractmethod
    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        """Add ``amount`` to an integer (missing = 0) and return the new value. The TTL is set when the
        key is created and left alone afterwards (a fixed window from the first increment)."""

    def claim(self, key: str, *, ttl_s: float) -> bool:
        """Create ``key`` if it does not exist (atomically) and keep it for ``ttl_s`` seconds: ``True`` for
        the first claim, ``False`` when it is already claimed (a replay).

        A claim must survive until it expires whatever else is written; when that cannot be promised
        (the store is full of live claims), raise :class:`StoreFull` rather than forget one. This default
        uses :meth:`incr` and is only as durable as the implementation's counters; :class:`MemoryStore`
        keeps claims apart from every other key.
        """
        return self.incr(key, 1, ttl_s=ttl_s) == 1

    @abstractmethod
    def window_admit(self, keys: Sequence[str], limits: Sequence[int], *, now: float,
                     window_s: float) -> WindowVerdict:
        """Sliding-window admission over several keys at once, atomically.

        For each key, events older than ``now - window_s`` are forgotten. If every key holds fewer than
        its limit (a limit ``<= 0`` means unlimited), ``now`` is recorded in every window and the call is
        admitted; otherwise nothing is recorded.
        """

    @abstractmethod
    def window_count(self, key: str, *, now: float, window_s: float) -> int: ...

    @abstractmethod
    def publish(self, channel: str, message: Any) -> None: ...

    @abstractmethod
    def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(channel, message)`` for each message; returns an unsubscribe function."""

    def close(self) -> None:  # noqa: B027 - optional hook for implementations holding connections
        """Release connections. The in-memory store has nothing to release."""


class MemoryStore(Store):
    """Process-local store, bounded in memory and in the time any operation takes.

    At most ``max_keys`` keys (and as many rate-limit windows). Past that, expired keys are dropped, then
    the least recently written keys *that have a TTL* (counters, windows of caller-chosen ids), and only
    when none is left the least recently written durable keys: a flood of caller-chosen keys keeps memory
    bounded without pushing out durable state such as kill-switch entries. Every eviction step is
    amortised O(log n) (a deadline heap and one write-order list per kind), so a key flood cannot turn
    each write into a scan of the whole store.

    Claims (:meth:`claim`, approval nonces) are kept apart, at most ``max_claims`` of them, and are never
    evicted before they expire: with ``max_claims`` live claims, a new claim raises :class:`StoreFull`.

    Rate-limit windows are held the same way: at most ``max_keys`` of them, and a window that still holds
    events inside its span is never dropped to make room (forgetting it would give its caller a fresh
    budget). A call that needs a new window when every window is live raises :class:`StoreFull` and
    records nothing.
    """

    def __init__(self, *, max_keys: int = 100_000, max_claims: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        if max_claims < 1:
            raise ValueError("max_claims must be >= 1")
        self._lock = threading.RLock()
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._expiring: OrderedDict[str, None] = OrderedDict()  # keys with a TTL, oldest write first
        self._durable: OrderedDict[str, None] = OrderedDict()  # keys without one, oldest write first
        self._deadlines: list[tuple[float, str]] = []  # heap of (expires, key); stale entries are skipped
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()  # each sorted, oldest first
        self._spans: dict[str, float] = {}  # window key -> the window_s it was last admitted with
        self._claims: dict[str, float] = {}
        self._claim_deadlines: list[tuple[float, str]] = []
        self._subs: dict[str, list[Subscriber]] = {}
        self._max_keys = max_keys
        self._max_claims = max_claims
        self._clock = clock

    # -- key/value -------------------------------------------------------------------------------
    def _drop(self, key: str) -> bool:
        item = self._data.pop(key, None)
        if item is None:
            return False
        (self._durable if item[1] is None else self._expiring).pop(key, None)
        return True

    def _live(self, key: str) -> tuple[bool, Any]:
        item = self._data.get(key)
        if item is None:
            return False, None
        value, expires = item
        if expires is not None and self._clock() >= expires:
            self._drop(key)
            return False, None
        return True, value

    def _put(self, key: str, value: Any, expires: float | None) -> None:
        data = self._data
        old = data.get(key)
        data[key] = (value, expires)
        order = self._durable if expires is None else self._expiring
        if old is None:
            order[key] = None
        else:
            before = self._durable if old[1] is None else self._expiring
            if before is order:
                order.move_to_end(key)
            else:
                del before[key]
                order[key] = None
        if expires is not None and (old is None or old[1] != expires):
            deadlines = self._deadlines
            heapq.heappush(deadlines, (expires, key))
            if len(deadlines) > 2 * len(self._expiring) + 64:  # mostly stale (rewritten or deleted keys)
                self._deadlines = [(e, k) for k, (_, e) in data.items() if e is not None]
                heapq.heapify(self._deadlines)
        if len(data) > self._max_keys:
            self._evict(key)

    def _evict(self, keep: str) -> None:
        """Bring the store back to ``max_keys``: expired keys, then the oldest keys with a TTL, then the
        oldest durable keys (``keep``, the key just written, last of all)."""
        data, deadlines = self._data, self._deadlines
        now = self._clock()
        while len(data) > self._max_keys and deadlines and deadlines[0][0] <= now:
            expires, key = heapq.heappop(deadlines)
            item = data.get(key)
            if item is not None and item[1] == expires:
                self._drop(key)
        for order in (self._expiring, self._durable):
            while len(data) > self._max_keys and order:
                key = next(iter(order))
                if key == keep:  # written last, so first only when it is alone
                    break
                self._drop(key)

    def get(self, key: str, default: Any = None) -> Any:
        # The hot operations take the lock with acquire/try/release: a third cheaper than a with block,
        # compiled or not, with the same guarantee.
        lock = self._lock
        lock.acquire()
        try:  # _live, inlined: get is called several times per check
            item = self._data.get(key)
            if item is None:
                return default
            value, expires = item
            if expires is not None and self._clock() >= expires:
                self._drop(key)
                return default
            return value if type(value) in _IMMUTABLE else copy.deepcopy(value)
        finally:
            lock.release()

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        """Every key read under one lock: the values are a consistent snapshot."""
        out = []
        lock = self._lock
        lock.acquire()
        try:
            data = self._data
            now = None
            for key in keys:
                item = data.get(key)
                if item is None:
                    out.append(default)
                    continue
                value, expires = item
                if expires is not None:
                    if now is None:
                        now = self._clock()
                    if now >= expires:
                        self._drop(key)
                        out.append(default)
                        continue
                out.append(value if type(value) in _IMMUTABLE else copy.deepcopy(value))
        finally:
            lock.release()
        return out

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        with self._lock:
            expires = None if ttl_s is None else self._clock() + ttl_s
            self._put(key, _copy(value), expires)

    def delete(self, key: str) -> bool:
        with self._lock:
            removed = self._drop(key)
            removed = self._windows.pop(key, None) is not None or removed
            self._spans.pop(key, None)
            return removed

    def scan(self, prefix: str) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {}
            for key in [k for k in self._data if k.startswith(prefix)]:
                found, value = self._live(key)
                if found:
                    out[key] = _copy(value)
            return out

    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        lock = self._lock
        lock.acquire()
        try:  # _live and _put, inlined (a counter is bumped on every check that has a session limit)
            data = self._data
            item = data.get(key)
            if item is not None:
                value, expires = item
                if expires is None or self._clock() < expires:
                    # A live key keeps its TTL: _put would only rewrite it and mark it the newest of its
                    # kind (the key count does not change, so nothing is evicted).
                    new = int(value) + amount
                    data[key] = (new, expires)
                    (self._durable if expires is None else self._expiring).move_to_end(key)
                    return new
                self._drop(key)
            expires = None if ttl_s is None else self._clock() + ttl_s
            self._put(key, amount, expires)
            return amount
        finally:
            lock.release()

    def claim(self, key: str, *, ttl_s: float) -> bool:
        with self._lock:
            claims = self._claims
            now = self._clock()
            expires = claims.get(key)
            if expires is not None:
                if now < expires:
                    return False
                del claims[key]
            if len(claims) >= self._max_claims:
                heap = self._claim_deadlines
                while heap and heap[0][0] <= now:
                    deadline, old = heapq.heappop(heap)
                    if claims.get(old) == deadline:
                        del claims[old]
                if len(claims) >= self._max_claims:
                    raise StoreFull(f"{len(claims)} live claims: none can be dropped before it expires")
            claims[key] = now + ttl_s
            heapq.heappush(self._claim_deadlines, (now + ttl_s, key))
            if len(self._claim_deadlines) > 2 * len(claims) + 64:
                self._claim_deadlines = [(e, k) for k, e in claims.items()]
                heapq.heapify(self._claim_deadlines)
            return True

    # -- sliding windows -------------------------------------------------------------------------
    def _window(self, key: str, now: float, window_s: float) -> deque[float]:
        """The window of ``key`` with the events older than ``now - window_s`` forgotten (a new empty deque
        when there is none). Forgetting pops from the left, so each event costs O(1) once over its life,
        however full the window is (a list trimmed with ``del log[:k]`` moved every remaining event)."""
        log = self._windows.get(key)
        if log is None:
            return deque()
        cutoff = now - window_s
        if log[0] <= cutoff:  # something expired (the log is sorted)
            popleft = log.popleft
            while log and log[0] <= cutoff:
                popleft()
            if not log:
                del self._windows[key]
                del self._spans[key]
        return log

    @staticmethod
    def _insert(log: deque[float], now: float) -> None:
        """Record ``now``, keeping ``log`` sorted. Time moves forward, so this is an append; an earlier
        ``now`` (two threads that read the clock in one order and reach the store in the other) only
        steps over the few events recorded since."""
        if not log or log[-1] <= now:
            log.append(now)
            return
        later: list[float] = []
        while log and log[-1] > now:
            later.append(log.pop())
        log.append(now)
        log.extend(reversed(later))

    def window_admit(self, keys: Sequence[str], limits: Sequence[int], *, now: float,
                     window_s: float) -> WindowVerdict:
        n = len(keys)
        if n != len(limits):
            raise ValueError("keys and limits must have the same length")
        lock = self._lock
        lock.acquire()
        try:
            windows = self._windows
            if n == 1:  # the common case (one limited window): the loops below and _window, inlined
                (key,) = keys
                (limit,) = limits
                log = windows.get(key)
                if log is not None:
                    cutoff = now - window_s
                    if log[0] <= cutoff:  # something expired (the log is sorted)
                        popleft = log.popleft
                        while log and log[0] <= cutoff:
                            popleft()
                    if log:
                        if limit > 0 and len(log) >= limit:
                            return _verdict(False, (len(log),), 0)
                        windows.move_to_end(key)
                    else:  # every event left: the window is forgotten, then started again
                        del windows[key]
                        del self._spans[key]
                        log = None
                if log is None:  # a new window has room whatever its limit
                    self._make_room(1, now)
                    windows[key] = log = deque()
                if not log or log[-1] <= now:  # _insert's append case, inlined
                    log.append(now)
                else:
                    self._insert(log, now)
                self._spans[key] = window_s
                return _verdict(True, (len(log),), None)
            logs = []
            for key in keys:
                logs.append(self._window(key, now, window_s))
            for i, limit in enumerate(limits):
                if limit > 0 and len(logs[i]) >= limit:
                    return _verdict(False, tuple([len(x) for x in logs]), i)
            new: set[str] = set()
            for key in keys:
                if key not in windows:
                    new.add(key)
            self._make_room(len(new), now)
            spans = self._spans
            counts = []
            for i, key in enumerate(keys):
                log = windows.setdefault(key, logs[i])  # a fresh deque from _window is added here
                self._insert(log, now)
                windows.move_to_end(key)
                spans[key] = window_s
                counts.append(len(log))
            return _verdict(True, tuple(counts), None)
        finally:
            lock.release()

    def _make_room(self, new: int, now: float) -> None:
        """Room for ``new`` more windows: drop the least recently used windows while they are expired
        (their newest event is out of their span); a live one is never dropped: :class:`StoreFull`."""
        windows = self._windows
        while new and len(windows) + new > self._max_keys:
            key, log = next(iter(windows.items()))
            if log and log[-1] > now - self._spans.get(key, 0.0):
                raise StoreFull(f"{len(windows)} rate-limit windows are live; none can be dropped before its "
                                "events leave it")
            del windows[key]
            self._spans.pop(key, None)

    def window_count(self, key: str, *, now: float, window_s: float) -> int:
        lock = self._lock
        lock.acquire()
        try:
            return len(self._window(key, now, window_s))
        finally:
            lock.release()

    # -- pub/sub -------------------------------------------------------------------------------
    def publish(self, channel: str, message: Any) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for cb in subs:
            cb(channel, copy.deepcopy(message))

    def subscribe(self, channel: str, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subs.setdefault(channel, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if callback in subs:
                    subs.remove(callback)

        return unsubscribe

    def __len__(self) -> int:
        with self._lock:
            return len(self._data) + len(self._windows) + len(self._claims)
