"""The in-memory store: the default of a library ``AgentSecurity``, private to one process.

Bounded in memory and in the time any operation takes. At most ``max_keys`` key/value keys (counters
included) and as many rate-limit windows. Past that, expired keys are dropped, then the least recently
written keys *that have a TTL* (counters, windows of caller-chosen ids), and only when none is left the
least recently written durable keys: a flood of caller-chosen keys keeps memory bounded without pushing
out durable state such as kill-switch entries. Every eviction step is amortised O(log n) (a deadline heap
and one write-order list per kind), so a key flood cannot turn each write into a scan of the whole store.
Below the bound, each write also drops a few expired keys and each new window a few windows that count
nothing any more, so the store holds about what is live rather than filling up to its bound.

Claims (:meth:`MemoryStore.claim`, approval nonces) are kept apart, at most ``max_claims`` of them, and are
never evicted before they expire: with ``max_claims`` live claims, a new claim raises :class:`StoreFull`.

Rate-limit windows are held the same way: at most ``max_keys`` of them, and a window that still counts
calls is never dropped to make room (forgetting it would give its caller a fresh budget). A call that
needs a new window when every window is live raises :class:`StoreFull` and records nothing. Each window
holds at most ``min(limit, 64)`` or 65 entries (:mod:`agent_security.core.store.windows`).

A ``MemoryStore`` is shared by nothing outside its process, so its ``namespace`` changes no key; the
asynchronous methods answer directly (nothing here waits on I/O).
"""

from __future__ import annotations

import copy
import heapq
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from agent_security.core._speedups.locks import YieldingLock
from agent_security.core.clock import SYSTEM_CLOCK
from agent_security.core.errors import StoreFull
from agent_security.core.store.base import (
    AdmissionVerdict,
    CounterLimit,
    Store,
    Subscriber,
    TimeSource,
    WindowLimit,
    WindowVerdict,
)
from agent_security.core.store.windows import Window

__all__ = ["MemoryStore"]

_IMMUTABLE: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Value types returned without a defensive copy (nothing in them can be mutated)."""


def _copy(value: Any) -> Any:
    """A copy the caller may change without changing the stored value: JSON-shaped values (what every store
    holds) member by member, anything else with ``copy.deepcopy``."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: _copy(member) for key, member in value.items()}
    if kind is list:
        return [_copy(member) for member in value]
    if kind is tuple:
        return tuple(_copy(member) for member in value)
    return copy.deepcopy(value)


class MemoryStore(Store):
    """Process-local store (see the module documentation)."""

    def __init__(
        self,
        *,
        max_keys: int = 100_000,
        max_claims: int = 100_000,
        clock: TimeSource = SYSTEM_CLOCK,
        namespace: str | None = None,
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        if max_claims < 1:
            raise ValueError("max_claims must be >= 1")
        super().__init__(clock=clock, namespace=namespace)
        self._lock = YieldingLock(reentrant=True)
        self._data: dict[str, tuple[Any, float | None]] = {}
        self._expiring: OrderedDict[str, None] = OrderedDict()  # keys with a TTL, oldest write first
        self._durable: OrderedDict[str, None] = OrderedDict()  # keys without one, oldest write first
        self._deadlines: list[tuple[float, str]] = []  # heap of (expires, key); stale entries are skipped
        self._windows: OrderedDict[str, Window] = OrderedDict()  # least recently used first
        self._claims: dict[str, float] = {}
        self._claim_deadlines: list[tuple[float, str]] = []
        self._subs: dict[str, list[Subscriber]] = {}
        self._max_keys = max_keys
        self._max_claims = max_claims

    # -- key/value -------------------------------------------------------------------------------
    def _drop(self, key: str) -> bool:
        item = self._data.pop(key, None)
        if item is None:
            return False
        (self._durable if item[1] is None else self._expiring).pop(key, None)
        return True

    def _live(self, key: str, now: float) -> tuple[bool, Any]:
        item = self._data.get(key)
        if item is None:
            return False, None
        value, expires = item
        if expires is not None and now >= expires:
            self._drop(key)
            return False, None
        return True, value

    def _put(self, key: str, value: Any, expires: float | None, now: float) -> None:
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
        self._expire(now)
        if len(data) > self._max_keys:
            self._evict(key)

    def _expire(self, now: float) -> None:
        """Drop up to two keys whose TTL has passed (a write's share of the cleaning): the store holds
        about what is live, not everything written since it last reached ``max_keys``."""
        deadlines = self._deadlines
        for _ in range(2):
            if not deadlines or deadlines[0][0] > now:
                return
            expires, key = heapq.heappop(deadlines)
            item = self._data.get(key)
            if item is not None and item[1] == expires:
                self._drop(key)

    def _evict(self, keep: str) -> None:
        """Bring the store back to ``max_keys``: expired keys, then the oldest keys with a TTL, then the
        oldest durable keys (``keep``, the key just written, last of all)."""
        data, deadlines = self._data, self._deadlines
        now = self._time()
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
        with self._lock:
            found, value = self._live(key, self._time())
            return _copy(value) if found else default

    def get_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        """Every key read under one lock: the values are a consistent snapshot."""
        with self._lock:
            now = self._time()
            out = []
            for key in keys:
                found, value = self._live(key, now)
                out.append(_copy(value) if found else default)
            return out

    def set(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        with self._lock:
            if value is None:
                self._drop(key)
                return
            now = self._time()
            self._put(key, _copy(value), None if ttl_s is None else now + ttl_s, now)

    def delete(self, key: str) -> bool:
        with self._lock:
            removed = self._drop(key)
            return self._windows.pop(key, None) is not None or removed

    def delete_prefix(self, prefix: str) -> int:
        with self._lock:
            keys = [k for k in self._data if k.startswith(prefix)]
            for key in keys:
                self._drop(key)
            windows = [k for k in self._windows if k.startswith(prefix)]
            for key in windows:
                del self._windows[key]
            return len(keys) + len(windows)

    def scan(self, prefix: str) -> dict[str, Any]:
        with self._lock:
            now = self._time()
            out: dict[str, Any] = {}
            for key in [k for k in self._data if k.startswith(prefix)]:
                found, value = self._live(key, now)
                if found:
                    out[key] = _copy(value)
            return out

    # -- counters and claims ---------------------------------------------------------------------
    def _incr_locked(self, key: str, amount: int, ttl_s: float | None, now: float) -> int:
        data = self._data
        item = data.get(key)
        if item is not None:
            value, expires = item
            if expires is None or now < expires:
                # A live key keeps its TTL; it becomes the newest of its kind (nothing is evicted).
                new = int(value) + amount
                data[key] = (new, expires)
                (self._durable if expires is None else self._expiring).move_to_end(key)
                return new
            self._drop(key)
        self._put(key, amount, None if ttl_s is None else now + ttl_s, now)
        return amount

    def incr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        with self._lock:
            return self._incr_locked(key, amount, ttl_s, self._time())

    def release(self, key: str, amount: int = 1) -> int | None:
        with self._lock:
            found, value = self._live(key, self._time())
            if not found:
                return None
            new = max(0, int(value) - amount)
            self._data[key] = (new, self._data[key][1])
            return new

    def claim(self, key: str, *, ttl_s: float) -> bool:
        with self._lock:
            claims = self._claims
            now = self._time()
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

    # -- admission -------------------------------------------------------------------------------
    def _window(self, key: str, span: float, now: float) -> Window | None:
        """The window of ``key`` trimmed at ``now`` (``None`` when there is none or it emptied)."""
        window = self._windows.get(key)
        if window is None:
            return None
        window.span = span
        window.trim(now)
        if not window.entries:
            del self._windows[key]
            return None
        return window

    def admit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        with self._lock:
            t = self._time() if now is None else now
            values: tuple[Any, ...] = ()
            if flags:
                data = self._data
                read = []
                for key in flags:
                    item = data.get(key)
                    if item is not None and item[1] is not None and t >= item[1]:
                        self._drop(key)
                        item = None
                    read.append(None if item is None else _copy(item[0]))
                values = tuple(read)
                for i, value in enumerate(read):
                    if value is not None:
                        return AdmissionVerdict(False, values, (), (), "flag", i)
                if not windows and not counters:
                    return AdmissionVerdict(True, values, (), ())
            found_windows = [self._window(key, span, t) for key, _, span in windows]
            counts = tuple(0 if w is None else w.total for w in found_windows)
            for i, (_, limit, _) in enumerate(windows):
                if 0 < limit <= counts[i]:
                    return AdmissionVerdict(False, values, counts, (), "window", i)
            current = []
            for key, _, _, _ in counters:
                found, value = self._live(key, t)
                current.append(int(value) if found else 0)
            for i, (_, cap, _, amount) in enumerate(counters):
                if cap is not None and current[i] + amount > cap:
                    return AdmissionVerdict(False, values, counts, tuple(current), "counter", i)
            if windows:
                if None in found_windows:  # new windows need room (may raise StoreFull: nothing recorded yet)
                    new = {key for (key, _, _), w in zip(windows, found_windows, strict=True) if w is None}
                    self._drop_dead_windows(len(new) + 1, t)
                    self._make_room(len(new), t)
                after = []
                for key, limit, span in windows:
                    window = self._windows.get(key)
                    if window is None:
                        self._windows[key] = window = Window(span)
                    else:
                        self._windows.move_to_end(key)
                    window.record(t, limit)
                    after.append(window.total)
                counts = tuple(after)
            if counters:
                current = [self._incr_locked(key, amount, ttl_s, t) for key, _, ttl_s, amount in counters]
            return AdmissionVerdict(True, values, counts, tuple(current))

    def _drop_dead_windows(self, most: int, now: float) -> None:
        """Drop up to ``most`` least recently used windows that no longer count anything (a new window's
        share of the cleaning: windows of callers gone quiet do not wait for the store to fill up)."""
        windows = self._windows
        for _ in range(most):
            if not windows:
                return
            key, window = next(iter(windows.items()))
            if window.live(now):
                return
            del windows[key]

    def _make_room(self, new: int, now: float) -> None:
        """Room for ``new`` more windows: drop the least recently used windows while they no longer count
        anything; a live one is never dropped: :class:`StoreFull`."""
        windows = self._windows
        while new and len(windows) + new > self._max_keys:
            key, window = next(iter(windows.items()))
            if window.live(now):
                raise StoreFull(
                    f"{len(windows)} rate-limit windows are live; none can be dropped before its calls leave it"
                )
            del windows[key]

    def window_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        with self._lock:
            window = self._window(key, window_s, self._time() if now is None else now)
            return 0 if window is None else window.total

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

    # -- the asynchronous twins answer directly ----------------------------------------------------
    async def aget(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)

    async def aget_many(self, keys: Sequence[str], default: Any = None) -> list[Any]:
        return self.get_many(keys, default)

    async def aset(self, key: str, value: Any, *, ttl_s: float | None = None) -> None:
        self.set(key, value, ttl_s=ttl_s)

    async def adelete(self, key: str) -> bool:
        return self.delete(key)

    async def adelete_prefix(self, prefix: str) -> int:
        return self.delete_prefix(prefix)

    async def ascan(self, prefix: str) -> dict[str, Any]:
        return self.scan(prefix)

    async def aincr(self, key: str, amount: int = 1, *, ttl_s: float | None = None) -> int:
        return self.incr(key, amount, ttl_s=ttl_s)

    async def arelease(self, key: str, amount: int = 1) -> int | None:
        return self.release(key, amount)

    async def aclaim(self, key: str, *, ttl_s: float) -> bool:
        return self.claim(key, ttl_s=ttl_s)

    async def aadmit(
        self,
        flags: Sequence[str] = (),
        windows: Sequence[WindowLimit] = (),
        counters: Sequence[CounterLimit] = (),
        *,
        now: float | None = None,
    ) -> AdmissionVerdict:
        return self.admit(flags, windows, counters, now=now)

    async def awindow_admit(
        self, keys: Sequence[str], limits: Sequence[int], *, window_s: float, now: float | None = None
    ) -> WindowVerdict:
        return self.window_admit(keys, limits, window_s=window_s, now=now)

    async def awindow_count(self, key: str, *, window_s: float, now: float | None = None) -> int:
        return self.window_count(key, window_s=window_s, now=now)

    async def apublish(self, channel: str, message: Any) -> None:
        self.publish(channel, message)

    async def aclose(self) -> None:
        self.close()
