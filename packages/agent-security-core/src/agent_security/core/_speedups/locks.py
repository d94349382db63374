"""A lock for the short critical sections that threads sharing one instance meet on every check, part of
the core's speed code (:mod:`agent_security.core._speedups`). Its benchmark is
``benchmarks/bench_threads.py``.

Under CPython's GIL, a thread blocked on a ``threading.Lock`` sleeps without the GIL. When the holder
releases the lock, the lock is handed to the sleeper, which wakes on the other core and must then wait
for the GIL, while the holder, still running, blocks on the lock on its next call. From then on every
acquisition is a hand-off between two cores: two threads sharing an instance fell to ~0.65x of one
thread's throughput, their CPU time per check up by half (a loop that holds one lock for half its work
falls to a third).

:class:`YieldingLock` waits differently: a thread that finds the lock held gives the GIL up
(``time.sleep(0)``) so that the holder, which can only be waiting for the GIL, finishes its section, and
tries again. The lock is never handed to a sleeping thread, so no convoy forms. After a bounded number
of tries (the holder may be blocked in I/O, or the interpreter may run threads in parallel) it waits on
the lock as ``threading.Lock`` does. Mutual exclusion is the underlying lock's: the waiting strategy is
all that differs.
"""

from __future__ import annotations

import threading
import time

__all__ = ["YieldingLock"]

_TRIES = 64
"""How many times a waiter yields before it blocks on the lock."""
_yield = time.sleep


class YieldingLock:
    """``threading.Lock`` (``threading.RLock`` when ``reentrant``) whose waiters yield the interpreter to
    the holder before they block. Made for short sections of plain Python (the trail's linking, the
    memory store); where a section may wait on I/O (a sink's write), a waiter spends its bounded tries,
    then blocks."""

    __slots__ = ("_lock",)

    def __init__(self, *, reentrant: bool = False) -> None:
        self._lock = threading.RLock() if reentrant else threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        lock = self._lock
        if lock.acquire(False):
            return True
        if not blocking:
            return False
        for _ in range(_TRIES):
            _yield(0)
            if lock.acquire(False):
                return True
        return lock.acquire(True, timeout)

    __enter__ = acquire

    def release(self) -> None:
        self._lock.release()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
