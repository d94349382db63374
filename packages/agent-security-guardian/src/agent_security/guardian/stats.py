"""Incremental statistics of the detectors: every update is O(1) and every structure is bounded.

* :class:`Rate`: calls in a sliding window (:data:`BUCKETS` buckets of ``window_s / BUCKETS`` seconds, so
  a call is counted for between ``window_s - bucket`` and ``window_s`` seconds: a count never exceeds
  the exact one) and, beside it, the learned baseline: the calls of each finished ``interval_s`` update an
  exponentially weighted mean and variance; the interval in progress is a spike once it exceeds
  ``max(min_count, mean + z * stddev)`` after the warm-up.
* :class:`SequenceProgress`: the partial matches of ordered tool sequences, other calls allowed between
  the steps, within a window from the first step to the last.
* :class:`HourGate`: whether an instant is inside the allowed hours of a timezone, cached per quarter
  hour (every UTC offset is a multiple of 15 minutes).

Each structure can be written to and read from JSON (``dump`` / ``load``) so that detection state lives
in the store between processes.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent_security.guardian.config import AllowedHours, BaselineConfig

__all__ = ["BUCKETS", "HourGate", "Rate", "SequenceProgress", "SequenceSet"]

BUCKETS = 16
MAX_GAP_FOLDS = 64
"""Empty intervals folded into a baseline one by one; a longer silence folds this many (the mean has
decayed to within ``(1 - alpha) ** 64`` of zero by then for the default alpha)."""
_INF = math.inf


class Rate:
    """A sliding-window count and a per-interval baseline (see the module documentation)."""

    __slots__ = ("buckets", "count", "interval", "limit", "mean", "n", "total", "var")

    def __init__(self) -> None:
        self.buckets: deque[list[int]] = deque()
        self.total = 0
        self.interval = -1
        self.count = 0
        self.mean = 0.0
        self.var = 0.0
        self.n = 0
        self.limit = _INF

    def hit(self, bucket: int) -> int:
        """Count one call in ``bucket`` (``int(ts / (window_s / BUCKETS))``); the count in the window."""
        buckets = self.buckets
        if buckets and buckets[-1][0] >= bucket:
            buckets[-1][1] += 1  # this bucket, or a late event counted in the newest one
        else:
            buckets.append([bucket, 1])
        total = self.total + 1
        cutoff = bucket - BUCKETS
        while buckets[0][0] <= cutoff:
            total -= buckets.popleft()[1]
        self.total = total
        return total

    def learn(self, interval: int, cfg: BaselineConfig) -> bool:
        """Count one call in ``interval`` (``int(ts / interval_s)``); True when the interval is a spike."""
        if interval > self.interval:  # an earlier interval (a late event) is counted in the current one
            if self.interval >= 0:
                self._fold(self.count, cfg)
                for _ in range(min(interval - self.interval - 1, MAX_GAP_FOLDS)):
                    self._fold(0, cfg)
            self.interval = interval
            self.count = 0
        self.count += 1
        return self.count > self.limit

    def _fold(self, x: int, cfg: BaselineConfig) -> None:
        if self.n == 0:
            self.mean, self.var = float(x), 0.0
        else:
            diff = x - self.mean
            incr = cfg.alpha * diff
            self.mean += incr
            self.var = (1 - cfg.alpha) * (self.var + diff * incr)
        self.n += 1
        if self.n >= cfg.warmup_intervals:
            self.limit = max(float(cfg.min_count), self.mean + cfg.z * math.sqrt(self.var))

    def dump(self) -> list[Any]:
        return [[list(b) for b in self.buckets], self.interval, self.count, self.mean, self.var, self.n, self.limit]

    @classmethod
    def load(cls, data: Any) -> Rate:
        rate = cls()
        buckets, rate.interval, rate.count, rate.mean, rate.var, rate.n, limit = data
        rate.buckets = deque([int(b), int(c)] for b, c in buckets[-(BUCKETS + 1) :])
        rate.total = sum(c for _, c in rate.buckets)
        rate.limit = _INF if limit is None else float(limit)
        rate.interval, rate.count, rate.n = int(rate.interval), int(rate.count), int(rate.n)
        rate.mean, rate.var = float(rate.mean), float(rate.var)
        return rate


class SequenceSet:
    """The configured sequences, indexed by tool: the sequences an event of a tool can advance."""

    __slots__ = ("by_tool", "sequences", "wild")

    def __init__(self, sequences: tuple[tuple[str, ...], ...]) -> None:
        self.sequences = sequences
        self.wild = tuple(i for i, s in enumerate(sequences) if "*" in s)
        by_tool: dict[str, list[int]] = {}
        for i, seq in enumerate(sequences):
            for step in set(seq) - {"*"}:
                by_tool.setdefault(step, []).append(i)
        self.by_tool = {t: tuple(sorted(set(ids) | set(self.wild))) for t, ids in by_tool.items()}

    def relevant(self, tool: str) -> tuple[int, ...]:
        return self.by_tool.get(tool, self.wild)


Partial = tuple[float, tuple[str, ...]]
"""A partial match: the time of its first step, and the event ids of its steps so far."""


class SequenceProgress:
    """One agent's partial matches of each sequence: ``partial[s][i]`` has matched steps ``0..i``."""

    __slots__ = ("partial",)

    def __init__(self) -> None:
        self.partial: dict[int, list[Partial | None]] = {}

    def advance(
        self, seqs: SequenceSet, tool: str, ts: float, event_id: str, window_s: float
    ) -> list[tuple[int, Partial]]:
        """Take one call into account; the sequences it completes, each with its match."""
        found: list[tuple[int, Partial]] = []
        for s in seqs.relevant(tool):
            steps = seqs.sequences[s]
            length = len(steps)
            part = self.partial.get(s)
            if part is None:
                part = self.partial[s] = [None] * length
            for i in range(length - 1, 0, -1):  # from the longest: one call advances a match by one step
                prev = part[i - 1]
                if prev is None or (steps[i] != "*" and steps[i] != tool):
                    continue
                if ts - prev[0] > window_s:
                    part[i - 1] = None
                    continue
                grown = (prev[0], (*prev[1], event_id))
                if i == length - 1:
                    found.append((s, grown))
                    part[i - 1] = None
                else:
                    current = part[i]
                    if current is None or prev[0] >= current[0]:
                        part[i] = grown
            if steps[0] == tool:
                if length == 1:
                    found.append((s, (ts, (event_id,))))
                else:
                    part[0] = (ts, (event_id,))  # the latest start leaves the most time to finish
        return found

    def dump(self) -> dict[str, Any]:
        return {str(s): [None if p is None else [p[0], list(p[1])] for p in part] for s, part in self.partial.items()}

    @classmethod
    def load(cls, data: Any, seqs: SequenceSet) -> SequenceProgress:
        prog = cls()
        for key, part in (data or {}).items():
            s = int(key)
            if 0 <= s < len(seqs.sequences) and isinstance(part, list) and len(part) == len(seqs.sequences[s]):
                prog.partial[s] = [None if p is None else (float(p[0]), tuple(str(e) for e in p[1])) for p in part]
        return prog


class HourGate:
    """Whether an instant falls within the allowed hours, in a timezone (cached per quarter hour)."""

    __slots__ = ("_cached", "_hours", "_slot", "_zone")

    def __init__(self, hours: AllowedHours, timezone: str) -> None:
        self._hours = hours
        self._zone = ZoneInfo(timezone)
        self._slot = -1
        self._cached: tuple[bool, int] = (True, 0)

    def check(self, ts: float) -> tuple[bool, int]:
        """``(allowed, local hour)`` at epoch second ``ts``."""
        slot = int(ts // 900)
        if slot != self._slot:
            hour = datetime.fromtimestamp(ts, self._zone).hour
            self._cached = (self._hours.allows(hour), hour)
            self._slot = slot
        return self._cached
