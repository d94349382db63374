"""``YieldingLock`` (the speed module's lock for short sections shared by threads) excludes as the lock it
wraps does; only how a waiter waits differs. How much it saves is ``benchmarks/bench_threads.py``'s."""

from __future__ import annotations

import threading

import pytest

from agent_security.core._speedups import locks
from agent_security.core._speedups.locks import YieldingLock


def test_excludes_threads_incrementing_a_shared_counter() -> None:
    lock = YieldingLock()
    state = {"n": 0, "inside": 0, "overlap": 0}
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(2_000):
            with lock:
                state["inside"] += 1
                if state["inside"] != 1:
                    state["overlap"] += 1
                n = state["n"]
                state["n"] = n + 1  # a lost update shows if two threads were ever inside
                state["inside"] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state == {"n": 16_000, "inside": 0, "overlap": 0}


def test_non_blocking_and_timeout_as_threading_lock() -> None:
    lock = YieldingLock()
    assert lock.acquire() is True
    answers: list[bool] = []
    other = threading.Thread(target=lambda: answers.extend([lock.acquire(False), lock.acquire(timeout=0.01)]))
    other.start()
    other.join()
    assert answers == [False, False]
    lock.release()
    assert lock.acquire(False) is True
    lock.release()


def test_plain_lock_is_not_reentrant_and_the_reentrant_one_is() -> None:
    plain = YieldingLock()
    with plain:
        assert plain.acquire(False) is False
    reentrant = YieldingLock(reentrant=True)
    with reentrant, reentrant:
        assert reentrant.acquire(False) is True
        reentrant.release()
    with pytest.raises(RuntimeError):
        reentrant.release()  # released as often as taken: one more is an error, as for RLock


def test_a_waiter_blocks_once_its_tries_are_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    """A holder that keeps the lock while it waits for something else (I/O) does not leave the waiter
    spinning: once its tries are spent it waits on the lock, and gets it when the holder lets go."""
    lock = YieldingLock()
    yields: list[float] = []
    tried = threading.Event()

    def counted_yield(seconds: float) -> None:
        yields.append(seconds)
        if len(yields) == locks._TRIES:
            tried.set()

    monkeypatch.setattr(locks, "_yield", counted_yield)
    got = threading.Event()
    lock.acquire()

    def waiter() -> None:
        with lock:
            got.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert tried.wait(10)
    assert not got.is_set()
    lock.release()
    thread.join(10)
    assert got.is_set()
    assert len(yields) == locks._TRIES  # no more tries once blocked
