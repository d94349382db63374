from __future__ import annotations

import base64
import itertools
import threading

import pytest

from agent_security.core.audit import GENESIS_HASH, AuditTrail, event_hash, verify_trail
from agent_security.core.audit.chain import checkpoint_message
from agent_security.core.models import AuditEvent


def test_sequences_and_links(make_event):
    seen: list[AuditEvent] = []
    trail = AuditTrail(seen.append)
    returned = [trail.record(make_event()) for _ in range(5)]
    assert returned == seen
    assert [e.sequence for e in seen] == [1, 2, 3, 4, 5]
    assert seen[0].prev_hash == GENESIS_HASH
    for a, b in itertools.pairwise(seen):
        assert b.prev_hash == a.hash
    assert all(e.hash == event_hash(e) for e in seen)
    assert trail.head == (5, seen[-1].hash)
    assert verify_trail(seen).ok


def test_input_event_is_not_mutated(make_event):
    trail = AuditTrail(lambda e: None)
    ev = make_event()
    out = trail.record(ev)
    assert ev.sequence == 0 and ev.hash is None
    assert out.event_id == ev.event_id and out.hash is not None


def test_dispatch_error_propagates_and_chain_advances(make_event):
    calls: list[AuditEvent] = []

    def dispatch(ev: AuditEvent) -> None:
        calls.append(ev)
        if ev.sequence == 2:
            raise OSError("disk full")

    trail = AuditTrail(dispatch)
    trail.record(make_event())
    with pytest.raises(OSError):
        trail.record(make_event())
    third = trail.record(make_event())
    assert third.sequence == 3 and third.prev_hash == calls[1].hash
    assert verify_trail(calls).ok  # a sink that did get event 2 keeps a valid chain
    report = verify_trail([calls[0], calls[2]])  # a sink that missed it shows the gap
    assert [i.kind for i in report.issues] == ["deleted"]


def test_checkpoints_every_n_and_on_close(make_event, signer):
    seen: list[AuditEvent] = []
    trail = AuditTrail(seen.append, signer=signer, sign_every=3)
    for _ in range(7):
        trail.record(make_event())
    kinds = [e.kind for e in seen]
    assert kinds == ["decision"] * 3 + ["lifecycle"] + ["decision"] * 3 + ["lifecycle"] + ["decision"]
    cp = seen[3].data["checkpoint"]
    assert cp["head_sequence"] == 3 and cp["head_hash"] == seen[2].hash and cp["key_id"] == signer.key_id
    message = checkpoint_message(3, seen[2].hash, signer.key_id)
    signer.public_key.verify(base64.b64decode(cp["signature"]), message)
    assert trail.flush() is not None  # one unsigned event
    assert trail.flush() is None  # nothing unsigned now
    trail.record(make_event())
    trail.close()
    assert seen[-1].kind == "lifecycle" and seen[-1].data["checkpoint"]["head_sequence"] == seen[-2].sequence
    trail.close()  # idempotent
    with pytest.raises(RuntimeError):
        trail.record(make_event())
    report = verify_trail(seen, public_keys=[signer.public_key])
    assert report.ok and report.verified_checkpoints == 4 and report.unsigned_tail == 0


def test_no_signer_no_checkpoints(make_event):
    seen: list[AuditEvent] = []
    trail = AuditTrail(seen.append, sign_every=1)
    trail.record(make_event())
    trail.close()
    assert [e.kind for e in seen] == ["decision"]


def test_concurrent_recording_keeps_one_order(make_event):
    seen: list[AuditEvent] = []
    trail = AuditTrail(seen.append)
    barrier = threading.Barrier(8)
    events = [[make_event() for _ in range(100)] for _ in range(8)]

    def worker(batch: list[AuditEvent]) -> None:
        barrier.wait()
        for ev in batch:
            trail.record(ev)

    threads = [threading.Thread(target=worker, args=(b,)) for b in events]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [e.sequence for e in seen] == list(range(1, 801))
    assert verify_trail(seen).ok


def test_resume_continues_chain(make_event):
    first: list[AuditEvent] = []
    t1 = AuditTrail(first.append)
    for _ in range(3):
        t1.record(make_event())
    second: list[AuditEvent] = []
    t2 = AuditTrail(second.append, last_sequence=3, last_hash=first[-1].hash)
    t2.record(make_event())
    assert second[0].sequence == 4 and second[0].prev_hash == first[-1].hash
    assert verify_trail(first + second).ok


@pytest.mark.parametrize(
    "kwargs", [{"last_sequence": 3}, {"last_hash": "abc"}, {"last_sequence": -1}, {"sign_every": 0}]
)
def test_bad_resume_arguments(kwargs):
    with pytest.raises(ValueError):
        AuditTrail(lambda e: None, **kwargs)


def test_unserialisable_data_fails_loudly(make_event):
    trail = AuditTrail(lambda e: None)
    with pytest.raises(Exception):  # noqa: B017 - pydantic or rfc8785 error, either way not recorded
        trail.record(make_event(data={"huge": 2**60}))
    assert trail.head[0] == 0
