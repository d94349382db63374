"""Background analysis (``analysis = "background"``): the audit hook queues the event, a worker thread
analyses it.

The caller's cost is an append to a deque (and, when the worker sleeps, waking it). Events are analysed
in trail order, one at a time: the worker and :meth:`Backlog.drain` take them under one lock. The
queue is bounded (``queue_size``): when it is full the event is refused with :class:`AnalysisFailed`,
so its call is denied (``AUDIT_FAILURE``): an overwhelmed or stuck guardian fails closed, and no event
is dropped unseen. (The caller cannot analyse the backlog itself: it may hold the trail's delivery,
which the worker needs to record an incident.) A failure of the analysis (a store that is down) cannot deny the
call whose event failed, which has already returned: it is kept, and every event queued while the last
analysis failed raises it, so the calls it belongs to are denied (``AUDIT_FAILURE``) until an analysis
succeeds again.

The price of taking the analysis off the caller's path: a kill takes effect once the worker has
analysed the event that triggered it, not before the triggering check returns.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_security.core import AuditEvent

__all__ = ["AnalysisFailed", "Backlog"]


class AnalysisFailed(RuntimeError):
    """The guardian's background analysis is failing; the event was queued, the call must not pass."""


class Backlog:
    """A bounded queue of audit events and the worker thread that analyses them."""

    def __init__(
        self,
        observe: Callable[[AuditEvent], Any],
        act: Callable[[Any], object],
        size: int,
        name: str = "agent-security-guardian",
    ) -> None:
        self._observe = observe
        self._act = act
        self._size = size
        self._name = name
        self._queue: deque[AuditEvent] = deque()
        self._serial = threading.Lock()
        """Held while an event is taken from the queue and observed (the detectors, the store): one at a
        time, in order. Acting on it (writing incidents to the trail) happens after it is released, so a
        thread delivering audit events may drain the backlog while the worker waits for the trail."""
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.failure: BaseException | None = None

    def put(self, event: AuditEvent) -> None:
        """Queue ``event`` for analysis; :class:`AnalysisFailed` when the queue is full or the last
        analysis failed."""
        queue = self._queue
        if len(queue) >= self._size:
            raise AnalysisFailed(f"the guardian's backlog is full ({self._size} events waiting)")
        queue.append(event)
        if not self._wake.is_set():
            if self._thread is None:
                self._start()
            self._wake.set()
        failure = self.failure
        if failure is not None:
            raise AnalysisFailed(f"the guardian's analysis is failing: {type(failure).__name__}: {failure}")

    def drain(self) -> None:
        """Analyse every queued event now, in this thread; raise the failure of the last analysis, if it
        failed (whichever thread ran it)."""
        while self._step():
            pass
        failure = self.failure
        if failure is not None:
            raise failure

    def _step(self) -> bool:
        with self._serial:
            try:
                event = self._queue.popleft()
            except IndexError:
                return False
            try:
                work = self._observe(event)
            except Exception as exc:
                self.failure = exc
                return True
        try:
            if work is not None:
                self._act(work)
        except Exception as exc:
            self.failure = exc
        else:
            self.failure = None
        return True

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()
            if self._stop:
                return
            while self._step():
                pass

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the worker and analyse what is left in this thread."""
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        self.drain()

    def __len__(self) -> int:
        return len(self._queue)
