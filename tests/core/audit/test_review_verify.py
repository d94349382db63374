"""Review finding F14: verifying with a public key must not pass a trail that no signature covers."""

from __future__ import annotations

from collections.abc import Callable

from agent_security.core.audit import AuditSigner
from agent_security.core.audit.chain import GENESIS_HASH, event_hash
from agent_security.core.audit.verify import verify_trail
from agent_security.core.models import AuditEvent


def _forge(events: list[AuditEvent], drop_checkpoints_after: int = 0) -> list[AuditEvent]:
    """What someone who can write the trail but has no signing key does: edit an event, drop the
    checkpoints it would break, renumber and recompute every hash."""
    out: list[AuditEvent] = []
    prev_hash = GENESIS_HASH
    for ev in events:
        is_checkpoint = ev.kind == "lifecycle" and "checkpoint" in ev.data
        if is_checkpoint and ev.sequence > drop_checkpoints_after:
            continue
        update: dict[str, object] = {"sequence": len(out) + 1, "prev_hash": prev_hash, "hash": None}
        if ev.sequence > drop_checkpoints_after and ev.kind == "decision":
            update["agent_id"] = "innocent"
        changed = ev.model_copy(update=update)
        changed = changed.model_copy(update={"hash": event_hash(changed)})
        out.append(changed)
        prev_hash = changed.hash or ""
    return out


def test_a_trail_stripped_of_its_checkpoints_fails_verification_with_a_key(
    write_trail: Callable[..., list[AuditEvent]], signer: AuditSigner
) -> None:
    events = write_trail([], 10, signer=signer, sign_every=4)
    forged = _forge(events)
    assert not any(e.kind == "lifecycle" for e in forged)
    assert verify_trail(forged).ok  # without a key nothing can tell (and the notes say so)
    report = verify_trail(forged, public_keys=[signer.public_key])
    assert not report.ok
    assert [i.kind for i in report.issues] == ["unsigned"]


def test_an_empty_trail_or_one_without_a_key_is_unchanged(
    write_trail: Callable[..., list[AuditEvent]], signer: AuditSigner
) -> None:
    assert verify_trail([], public_keys=[signer.public_key]).ok
    events = write_trail([], 10, signer=signer, sign_every=4)
    assert verify_trail(events, public_keys=[signer.public_key]).ok
