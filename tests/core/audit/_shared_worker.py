"""A writer process for test_shared_trail: appends events to shared audit files through its own trail.

``python _shared_worker.py WORKER N SIGN_EVERY KEY|- PATH...``: opens a sink per PATH (``.db``: SQLite,
else JSON Lines), opens a trail on them with ``AuditTrail.open`` and records N events, then closes.
Exits 0 when every record succeeded, 1 (with the error on stderr) otherwise.
"""

from __future__ import annotations

import sys

from agent_security.core.audit import AuditSigner, AuditTrail, JsonlAuditSink, SqliteAuditSink
from agent_security.core.models import AuditEvent


def main(argv: list[str]) -> int:
    worker, n, sign_every, key = argv[0], int(argv[1]), int(argv[2]), argv[3]
    sinks = [SqliteAuditSink(p) if p.endswith(".db") else JsonlAuditSink(p) for p in argv[4:]]
    delivered: list[AuditEvent] = []

    def dispatch(event: AuditEvent) -> None:  # what the pipeline's dispatch does: every sink, then others
        for sink in sinks:
            sink.agent_security_audit_event(event)
        delivered.append(event)

    signer = AuditSigner.from_pem(key) if key != "-" else None
    trail = AuditTrail.open(dispatch, sinks, signer=signer, sign_every=sign_every)
    for i in range(n):
        trail.record(AuditEvent(agent_id=f"worker-{worker}", data={"i": i}))
    trail.close()
    for sink in sinks:
        sink.close()
    own = [e for e in delivered if e.agent_id == f"worker-{worker}"]
    assert [e.data["i"] for e in own] == list(range(n)), "own events delivered in order"
    assert [e.sequence for e in delivered] == sorted(e.sequence for e in delivered), "chain order"
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
