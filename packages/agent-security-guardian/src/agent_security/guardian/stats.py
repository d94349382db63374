"""Incremental statistics of the detectors: every update is O(1) and every structure is bounded.

* :class:`Rate`: calls in a sliding window (:data:`BUCKETS` buckets of ``window_s / BUCKETS`` seconds; the
  window is the newest bucket and the ``BUCKETS - 1`` before it, so a call is counted for between
  ``window_s - bucket`` and ``window_s`` seconds: a count never exceeds the exact one) and, beside it,
  the learned baseline: the calls of each finished ``interval_s`` update an exponentially weighted mean
  and variance; the interval in progress is a spike once it exceeds
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
    """A sliding-window count and a per-interval baseline (see the module documentation).

    Bucket ``b`` is kept at slot ``b % BUCKETS`` with its number ``b`` beside it. A slot is only reset when
    a newer bucket takes it, so ``total`` may still hold buckets that have left the window: it is an upper
    bound of the count, exact as soon as :meth:`exact` has run. A threshold is checked on ``total`` first
    and on :meth:`exact` only when ``total`` exceeds it, so the common call costs a few operations whatever
    the pace of the calls."""

    __slots__ = ("count", "counts", "interval", "last", "limit", "mean", "n", "stamps", "total", "var")

    def __init__(self) -> None:
        self.stamps = [-1] * BUCKETS
        self.counts = [0] * BUCKETS
        self.last = -1
        """The newest bucket counted."""
        self.total = 0
        self.interval = -1
        self.count = 0
        self.mean = 0.0
        self.var = 0.0
        self.n = 0
        self.limit = _INF

    def tick(self, bucket: int, interval: int, cfg: BaselineConfig) -> int:
        """Count one call at bucket ``int(ts / (window_s / BUCKETS))`` and interval ``int(ts / interval_s)``;
        return an upper bound of the count in the window (:meth:`exact` gives the count). The interval is a
        spike when ``count > limit`` afterwards."""
        if bucket >= self.last:
            self.last = bucket
        else:
            bucket = self.last  # a late event (an earlier bucket) is counted in the newest one
        slot = bucket % BUCKETS
        counts = self.counts
        if self.stamps[slot] != bucket:
            self.total -= counts[slot]
            counts[slot] = 0
            self.stamps[slot] = bucket
        counts[slot] += 1
        self.total += 1
        if interval > self.interval:  # likewise, an earlier interval is counted in the current one
            self.roll(interval, cfg)
        self.count += 1
        return self.total

    def exact(self) -> int:
        """The count in the window ending at the newest bucket (stale buckets are dropped)."""
        oldest = self.last - BUCKETS
        stamps, counts = self.stamps, self.counts
        for slot in range(BUCKETS):
            if stamps[slot] <= oldest and counts[slot]:
                self.total -= counts[slot]
                counts[slot] = 0
        return self.total

    def roll(self, interval: int, cfg: BaselineConfig) -> None:
        """Start interval ``interval`` (a later one than the current): the intervals it ends are folded into
        the baseline."""
        if self.interval >= 0:
            self._fold(self.count, cfg)
            gap = interval - self.interval - 1
            if gap > 0:
                for _ in range(min(gap, MAX_GAP_FOLDS)):
                    self._fold(0, cfg)
        self.interval = interval
        self.count = 0

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
        limit = None if self.limit == _INF else self.limit
        return [list(self.stamps), list(self.counts), self.last, self.interval, self.count, self.mean, self.var,
                self.n, limit]  # fmt: skip

    @classmethod
    def load(cls, data: Any) -> Rate:
        rate = cls()
        stamps, counts, last, interval, count, mean, var, n, limit = data
        if len(stamps) != BUCKETS or len(counts) != BUCKETS:
            raise ValueError("a rate has one count per bucket")
        rate.stamps = [int(b) for b in stamps]
        rate.counts = [int(c) for c in counts]
        rate.total = sum(rate.counts)
        rate.last, rate.interval, rate.count, rate.n = int(last), int(interval), int(count), int(n)
        rate.mean, rate.var = float(mean), float(var)
        rate.limit = _INF if limit is None else float(limit)
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
        self, seqs: SequenceSet, relevant: tuple[int, ...], tool: str, ts: float, event_id: str, window_s: float
    ) -> list[tuple[int, Partial]]:
        """Take one call into account (``relevant``: ``seqs.relevant(tool)``); the sequences it completes."""
        found: list[tuple[int, Partial]] = []
        for s in relevant:
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
    """Whether an instant falls within the allowed hours, in a timezone, cached per quarter hour: the
    answer (``inside``, ``hour``) holds for ``lo <= ts < hi``; call :meth:`refresh` outside that."""

    __slots__ = ("_hours", "_zone", "hi", "hour", "inside", "lo")

    def __init__(self, hours: AllowedHours, timezone: str) -> None:
        self._hours = hours
        self._zone = ZoneInfo(timezone)
        self.lo = self.hi = 0.0
        self.inside = True
        self.hour = 0

    def refresh(self, ts: float) -> None:
        slot = ts // 900
        self.hour = datetime.fromtimestamp(ts, self._zone).hour
        self.inside = self._hours.allows(self.hour)
        self.lo, self.hi = slot * 900, (slot + 1) * 900

    def check(self, ts: float) -> tuple[bool, int]:
        """``(inside, local hour)`` at epoch second ``ts``."""
        if not self.lo <= ts < self.hi:
            self.refresh(ts)
        return self.inside, self.hour
