"""Delivery outside the trail lock, with real threads: every event delivered exactly once, in chain order;
``record()`` returns only once its own event was delivered; a delivery failure reaches the thread whose
event failed, whichever thread delivered it; a subscriber may itself call ``record()``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from agent_security.core.audit import AuditSigner, AuditTrail, verify_trail
from agent_security.core.models import AuditEvent

THREADS = 8


class _Refused(Exception):
    def __init__(self, event: AuditEvent) -> None:
        super().__init__(f"refused {event.sequence}")
        self.event = event


def _run(workers: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def guarded(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a recording thread is stuck (deadlock)"
    if errors:
        raise errors[0]


def _wait_for(condition: Callable[[], bool]) -> None:
    """Wait until another thread made ``condition`` true (it cannot become true by waiting alone)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the other threads never got there"
        time.sleep(0.0005)


def test_threads_see_one_order_each_event_once_and_return_after_delivery() -> None:
    delivered: list[AuditEvent] = []
    seen: set[str] = set()
    deliverers: set[int] = set()

    def dispatch(event: AuditEvent) -> None:
        delivered.append(event)  # only ever called by one thread at a time
        seen.add(event.event_id)
        deliverers.add(threading.get_ident())

    trail = AuditTrail(dispatch)
    barrier = threading.Barrier(THREADS)
    returned: list[list[AuditEvent]] = [[] for _ in range(THREADS)]

    def worker(i: int) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            for n in range(200):
                event = trail.record(AuditEvent(agent_id=f"t{i}", data={"n": n}))
                assert event.event_id in seen  # delivered before record() returned
                returned[i].append(event)

        return run

    _run([worker(i) for i in range(THREADS)])
    assert [e.sequence for e in delivered] == list(range(1, THREADS * 200 + 1))  # chain order, each once
    assert len({e.event_id for e in delivered}) == THREADS * 200
    for i, events in enumerate(returned):
        assert [e.data["n"] for e in events] == list(range(200))  # each thread's own order kept
        assert all(e.agent_id == f"t{i}" for e in events)
    assert {e.event_id for r in returned for e in r} == seen
    assert verify_trail(delivered).ok
    assert len(deliverers) > 1


def test_a_failure_reaches_the_thread_whose_event_failed_whoever_delivered_it() -> None:
    """Thread A delivers B's event (it must: A's subscriber recorded an event behind B's); B's event
    fails; B's record() raises, A's does not."""
    delivered: list[tuple[int, int | None, str | None]] = []
    trail: AuditTrail

    def dispatch(event: AuditEvent) -> None:
        delivered.append((threading.get_ident(), event.sequence, event.agent_id))
        if event.agent_id == "A" and event.kind == "decision":
            _wait_for(lambda: trail.head[0] == 2)  # B's event is queued behind this one
            trail.record(AuditEvent(kind="guardian.incident", agent_id="A"))  # re-entrant: queued after B's
        if event.agent_id == "B":
            raise _Refused(event)

    trail = AuditTrail(dispatch)
    outcome: dict[str, object] = {}

    def a() -> None:
        outcome["A"] = trail.record(AuditEvent(agent_id="A"))
        outcome["A thread"] = threading.get_ident()

    def b() -> None:
        _wait_for(lambda: trail.head[0] == 1)
        try:
            trail.record(AuditEvent(agent_id="B"))
        except _Refused as exc:
            outcome["B"] = exc

    _run([a, b])
    a_event = outcome["A"]
    assert isinstance(a_event, AuditEvent) and a_event.sequence == 1
    refused = outcome["B"]
    assert isinstance(refused, _Refused) and refused.event.sequence == 2 and refused.event.agent_id == "B"
    # B's event was delivered by A's thread, in chain order, then A's incident
    assert [(seq, who) for _, seq, who in delivered] == [(1, "A"), (2, "B"), (3, "A")]
    assert {tid for tid, _, _ in delivered} == {outcome["A thread"]}


def test_failures_under_contention_are_raised_by_their_own_record_calls() -> None:
    def dispatch(event: AuditEvent) -> None:
        if event.data.get("fail"):
            raise _Refused(event)

    trail = AuditTrail(dispatch)
    barrier = threading.Barrier(THREADS)
    failures: list[list[int]] = [[] for _ in range(THREADS)]
    expected: list[list[int]] = [[] for _ in range(THREADS)]

    def worker(i: int) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            for n in range(150):
                fail = (n * 7 + i) % 5 == 0
                if fail:
                    expected[i].append(n)
                try:
                    event = trail.record(AuditEvent(agent_id=f"t{i}", data={"n": n, "fail": fail}))
                    assert event.data["n"] == n and event.agent_id == f"t{i}"
                except _Refused as exc:
                    assert exc.event.agent_id == f"t{i}" and exc.event.data["n"] == n  # this call's own event
                    failures[i].append(n)

        return run

    _run([worker(i) for i in range(THREADS)])
    assert failures == expected


def test_a_subscriber_may_record_from_its_hook_without_deadlock() -> None:
    """A plugin writes an incident from inside its audit_event hook, from many threads at once; every
    subscriber sees the one chain order, and the incident comes right after what caused it when nothing
    else is queued."""
    later: list[AuditEvent] = []  # a subscriber after the recording one (e.g. a file sink)
    trail: AuditTrail

    def dispatch(event: AuditEvent) -> None:
        if event.kind == "decision" and event.data.get("suspicious"):
            incident = trail.record(AuditEvent(kind="guardian.incident", data={"cause": event.sequence}))
            assert incident.sequence > event.sequence and incident.hash
        later.append(event)

    trail = AuditTrail(dispatch)
    first = trail.record(AuditEvent(data={"suspicious": True}))
    assert [e.kind for e in later] == ["decision", "guardian.incident"]
    assert later[1].sequence == first.sequence + 1 and later[1].data["cause"] == first.sequence

    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        barrier.wait()
        for n in range(60):
            trail.record(AuditEvent(data={"suspicious": n % 3 == 0}))

    _run([worker] * THREADS)
    assert [e.sequence for e in later] == list(range(1, len(later) + 1))
    incidents = [e for e in later if e.kind == "guardian.incident"]
    assert len(incidents) == 1 + THREADS * 20
    by_sequence = {e.sequence: e for e in later}
    assert all(by_sequence[e.data["cause"]].data["suspicious"] for e in incidents)
    assert verify_trail(later).ok


def test_a_failing_nested_event_is_raised_by_the_record_that_led_to_it() -> None:
    def dispatch(event: AuditEvent) -> None:
        if event.kind == "decision":
            trail.record(AuditEvent(kind="guardian.incident"))
        elif event.kind == "guardian.incident":
            raise _Refused(event)

    trail = AuditTrail(dispatch)
    with pytest.raises(_Refused) as caught:
        trail.record(AuditEvent())
    assert caught.value.event.sequence == 2


def test_checkpoints_and_close_with_threads(signer: AuditSigner) -> None:
    delivered: list[AuditEvent] = []
    trail = AuditTrail(delivered.append, signer=signer, sign_every=7)
    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            trail.record(AuditEvent())

    _run([worker] * THREADS)
    trail.close()
    assert [e.sequence for e in delivered] == list(range(1, len(delivered) + 1))
    report = verify_trail(delivered, public_keys=[signer.public_key])
    assert report.ok and report.unsigned_tail == 0
    assert report.checkpoints == len(delivered) - THREADS * 50


def test_an_interrupted_deliverer_leaves_the_rest_deliverable() -> None:
    delivered: list[int] = []

    def dispatch(event: AuditEvent) -> None:
        if event.data.get("interrupt"):
            raise KeyboardInterrupt
        delivered.append(event.sequence)

    trail = AuditTrail(dispatch)
    with pytest.raises(KeyboardInterrupt):
        trail.record(AuditEvent(data={"interrupt": True}))
    assert trail.record(AuditEvent()).sequence == 2
    assert delivered == [2]
