"""The rate-limit window every store keeps: exact for small limits, bounded for any limit.

A window is a short list of entries ``[stamp, count]`` sorted by ``stamp``, plus their total. An entry is
counted while ``stamp > now - window_s`` (the window is ``(now - window_s, now]``).

* **Exact** (a limit from 1 to :data:`EXACT_LIMIT`): every admitted call is its own entry, stamped with
  its time. A refused call records nothing, so the window never holds more than ``limit`` entries, and a
  call is refused exactly when ``limit`` calls were admitted in the preceding ``window_s``: the sliding
  window log.
* **Slotted** (a larger limit, or ``limit <= 0``, unlimited): calls are counted in :data:`SLOTS` slots of
  ``window_s / SLOTS`` seconds, each stamped with its slot's *end*. A call is therefore counted for up to
  ``window_s / SLOTS`` longer than it is in the window and never shorter: the limiter never admits more
  than ``limit`` calls in any ``window_s``; it may refuse a call up to one slot early. At most
  ``SLOTS + 1`` entries are live.

So a window's memory is bounded by ``min(limit, EXACT_LIMIT)`` or ``SLOTS + 1`` entries, never by the
number of calls. The functions here are shared by every store implementation (the SQLite store keeps
the entries as JSON, the memory store as a deque), so all of them admit the same calls.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["EXACT_LIMIT", "SLOTS", "Window", "exact"]

EXACT_LIMIT = 64
"""Windows whose limit is at most this keep one timestamp per admitted call (exact)."""
SLOTS = 64
"""Slots of a window kept in counted slots."""


def exact(limit: int) -> bool:
    """True when a window with this limit keeps exact timestamps."""
    return 0 < limit <= EXACT_LIMIT


class Window:
    """One window's entries and their total (not thread-safe: the store holds its lock)."""

    __slots__ = ("entries", "span", "total")

    def __init__(self, span: float, entries: deque[list[float]] | None = None, total: int | None = None) -> None:
        self.span = span
        self.entries: deque[list[float]] = deque() if entries is None else entries
        self.total = int(sum(e[1] for e in self.entries)) if total is None else total

    def trim(self, now: float) -> int:
        """Forget the entries that left the window at ``now``; return the count still in it."""
        entries = self.entries
        if entries:
            cutoff = now - self.span
            if entries[0][0] <= cutoff:
                popleft = entries.popleft
                total = self.total
                while entries and entries[0][0] <= cutoff:
                    total -= int(popleft()[1])
                self.total = total
        return self.total

    def record(self, now: float, limit: int) -> None:
        """Count one call at ``now`` (the caller has checked the limit)."""
        entries = self.entries
        self.total += 1
        if exact(limit):
            if not entries or entries[-1][0] <= now:
                entries.append([now, 1])
                return
            # An earlier ``now`` (two callers that read the clock in one order and reach the store in the
            # other): step over the few entries recorded since.
            later: list[list[float]] = []
            while entries and entries[-1][0] > now:
                later.append(entries.pop())
            entries.append([now, 1])
            entries.extend(reversed(later))
            return
        slot = self.span / SLOTS
        stamp = (math.floor(now / slot) + 1) * slot
        if entries and entries[-1][0] >= stamp:
            entries[-1][1] += 1  # this slot (or a later one: counted for longer, never shorter)
        else:
            entries.append([stamp, 1])

    def newest(self) -> float | None:
        return self.entries[-1][0] if self.entries else None

    def live(self, now: float) -> bool:
        """True while some entry is still inside the window (forgetting it would reset a budget)."""
        return bool(self.entries) and self.entries[-1][0] > now - self.span

    def dump(self) -> list[list[float]]:
        return [list(e) for e in self.entries]

    @classmethod
    def load(cls, span: float, entries: list[list[float]]) -> Window:
        return cls(span, deque([float(e[0]), int(e[1])] for e in entries))
