"""The guardian's speed code, kept in one place: nothing else in the package trades clarity for time. Its
benchmark is ``benchmarks/bench_guardian.py`` (the guardian's work per audit event, and what it adds to a
check); ``tests/guardian/test_speedups.py`` holds it equal to its reference on random event streams.

* :class:`InlineAnalysis` is the guardian's analysis of one audit event (``GuardianAgent._observe_event``,
  the reference) with the usual call taken in one pass: a ``decision`` event that is not a denial, of an
  agent and tool already in memory, not in an earlier bucket than either rate's newest, below every
  threshold and learned limit, within the allowed hours. Every other event (and every
  call it is unsure of) goes to the reference before anything is changed. The bucket, the baseline
  interval and the allowed-hours answer of the newest timestamp are kept with the range of timestamps
  they hold for, so that a call in that range needs no division and no look-up of the hours.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from agent_security.core import Outcome
from agent_security.guardian.detect import Detectors, Finding, sequence_finding
from agent_security.guardian.incidents import IncidentBook
from agent_security.guardian.stats import BUCKETS, Rate

if TYPE_CHECKING:
    import threading

    from agent_security.core import AuditEvent
    from agent_security.guardian.agent import GuardianAgent, _Work

__all__ = ["InlineAnalysis", "same_quotient"]

_DENY = Outcome.DENY
_INF = math.inf


def same_quotient(n: int, width: float) -> tuple[float, float]:
    """``[lo, hi)``: the non-negative floats ``x`` with ``int(x / width) == n`` (``x / width`` rounds
    monotonically, so they form one range; its ends are found from ``n * width`` a few ulps at a time)."""
    lo = n * width
    while lo > 0 and int(math.nextafter(lo, -_INF) / width) >= n:
        lo = math.nextafter(lo, -_INF)
    while int(lo / width) < n:
        lo = math.nextafter(lo, _INF)
    hi = (n + 1) * width
    while int(math.nextafter(hi, -_INF) / width) > n:
        hi = math.nextafter(hi, -_INF)
    while int(hi / width) <= n:
        hi = math.nextafter(hi, _INF)
    return lo, hi


def _take_slot(window: Rate, bucket: int, slot: int) -> bool:
    """Start ``bucket`` in ``window`` as :meth:`Rate.tick` does before it counts: its slot taken, and
    emptied when it held an older bucket. ``False``, with nothing changed, when the window is already past
    ``bucket`` (a late event: the reference analysis counts it)."""
    if window.last != bucket:
        if window.last > bucket:
            return False
        window.last = bucket
        if window.stamps[slot] != bucket:
            window.total -= window.counts[slot]
            window.counts[slot] = 0
            window.stamps[slot] = bucket
    return True


class InlineAnalysis:
    """``analyse(event)`` is ``guardian._observe_event(event)`` (see the module documentation)."""

    __slots__ = (
        "baseline",
        "baseline_on",
        "book",
        "bucket",
        "bucket_s",
        "detectors",
        "follow_up",
        "frequency_cap",
        "guardian",
        "hi",
        "inside",
        "interval",
        "interval_s",
        "lo",
        "lock",
        "observe_locked",
        "reference",
        "sequence_window_s",
        "slot",
        "uses",
        "volume_cap",
    )

    def __init__(self, guardian: GuardianAgent, detectors: Detectors, book: IncidentBook, lock: threading.Lock) -> None:
        cfg = detectors.config
        self.guardian = guardian
        self.detectors = detectors
        self.book = book
        self.lock = lock
        self.reference = guardian._observe_event
        self.observe_locked = guardian._observe_locked
        self.follow_up = guardian._follow_up
        self.uses = detectors.uses
        self.bucket_s = detectors.bucket_s
        self.interval_s = detectors.interval_s
        self.baseline = cfg.baseline
        self.baseline_on = detectors.baseline_on
        self.frequency_cap = cfg.frequency_threshold or _INF
        """A call is checked against the frequency threshold once the window may hold this many."""
        self.volume_cap = cfg.volume_threshold or _INF
        self.sequence_window_s = cfg.sequence_window_s
        self.lo = self.hi = 0.0
        """The timestamps ``lo <= ts < hi`` share ``bucket``, ``interval`` and ``inside``."""
        self.bucket = self.interval = self.slot = 0
        self.inside = False

    def _refresh(self, ts: float) -> None:
        """The bucket, interval and allowed-hours answer of ``ts`` and the range they hold for."""
        self.bucket = bucket = int(ts / self.bucket_s)
        self.interval = interval = int(ts / self.interval_s)
        self.slot = bucket % BUCKETS
        lo, hi = same_quotient(bucket, self.bucket_s)
        ilo, ihi = same_quotient(interval, self.interval_s)
        lo, hi = max(lo, ilo), min(hi, ihi)
        gate = self.detectors.hours
        inside = True
        if gate is not None:
            if not gate.lo <= ts < gate.hi:
                gate.refresh(ts)
            inside = gate.inside
            lo, hi = max(lo, gate.lo), min(hi, gate.hi)
        self.inside = inside
        self.lo, self.hi = (lo, hi) if ts >= 0 else (0.0, 0.0)

    def analyse(self, event: AuditEvent) -> _Work | None:
        fields = event.__dict__
        agent = fields["agent_id"]
        if not agent or fields["kind"] != "decision" or fields["outcome"] is _DENY:
            return self.reference(event)
        ts = fields["timestamp"].timestamp()
        lock = self.lock
        lock.acquire()
        try:
            use = self.uses.get((agent, fields["tool_name"] or ""))
            if not self.lo <= ts < self.hi:
                self._refresh(ts)
            if use is None or not self.inside:
                return self.observe_locked(event, agent, True, ts)
            bucket = self.bucket
            slot = self.slot
            pair = use.rate
            st = use.state
            volume = st.volume
            # a newer bucket first takes its slot, as Rate.tick does before it counts (the reference,
            # if it is called below, then finds the slot taken)
            if not _take_slot(pair, bucket, slot) or not _take_slot(volume, bucket, slot):
                return self.observe_locked(event, agent, True, ts)
            # likewise a later baseline interval starts first; a call of an earlier one is counted in the
            # current one, as Rate.tick counts it
            interval = self.interval
            if interval > pair.interval:
                pair.roll(interval, self.baseline)
            if interval > volume.interval:
                volume.roll(interval, self.baseline)
            if not (
                pair.total < self.frequency_cap
                and volume.total < self.volume_cap
                and not (self.baseline_on and (pair.count + 1 > pair.limit or volume.count + 1 > volume.limit))
            ):
                return self.observe_locked(event, agent, True, ts)
            eid = fields["event_id"]
            pair.recent.append(eid)
            pair.counts[slot] += 1
            pair.total += 1
            pair.count += 1
            volume.recent.append(eid)
            volume.counts[slot] += 1
            volume.total += 1
            volume.count += 1
            found: list[Finding] | None = None
            if use.sequences:
                sequences = self.detectors.sequences
                for s, (start, ids) in st.seq.advance(
                    sequences, use.sequences, use.tool, ts, eid, self.sequence_window_s
                ):
                    found = found or []
                    found.append(sequence_finding(agent, sequences.sequences[s], ts - start, ids))
            detectors = self.detectors
            if st.changed is None:
                detectors.changed(st, ts)
            if found is None and ts < detectors.next_due and ts < self.guardian.next_sweep and not self.book.closed:
                return None
            return self.follow_up(found, agent, event, ts)
        finally:
            lock.release()
