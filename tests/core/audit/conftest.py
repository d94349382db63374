from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from agent_security.core.audit import AuditSigner, AuditTrail
from agent_security.core.models import AuditEvent, Outcome, Reason


@pytest.fixture
def make_event() -> Callable[..., AuditEvent]:
    n = count()
    base = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    def make(**kw: object) -> AuditEvent:
        i = next(n)
        fields: dict[str, object] = {
            "timestamp": base + timedelta(seconds=i, microseconds=i * 7),
            "request_id": f"req-{i}",
            "agent_id": f"agent-{i % 3}",
            "tool_name": "query_database",
            "environment": "dev",
            "outcome": Outcome.ALLOW,
            "allowed": True,
            "reasons": (Reason(code="ALLOW_DEV_STAGING", message="Allow all actions in dev"),),
            "data": {"i": i, "labels": ("PII",)},
        }
        fields.update(kw)
        return AuditEvent(**fields)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def chain() -> Callable[[int], list[AuditEvent]]:
    """``chain(n)``: ``n`` events chained by a fresh trail (event ids ``e0``..., agent ids ``a0``...)."""

    def make(n: int) -> list[AuditEvent]:
        out: list[AuditEvent] = []
        trail = AuditTrail(out.append)
        for i in range(n):
            trail.record(AuditEvent(event_id=f"e{i}", agent_id=f"a{i}", data={"i": i}))
        return out

    return make


@pytest.fixture(scope="session")
def signer() -> AuditSigner:
    return AuditSigner.generate()


@pytest.fixture
def write_trail(make_event: Callable[..., AuditEvent]) -> Callable[..., list[AuditEvent]]:
    """Record ``n`` events through a real trail into ``sinks``; return every chained event."""

    def write(
        sinks: list[object],
        n: int,
        *,
        signer: AuditSigner | None = None,
        sign_every: int = 100,
        close: bool = True,
        trail: AuditTrail | None = None,
    ) -> list[AuditEvent]:
        out: list[AuditEvent] = []

        def dispatch(ev: AuditEvent) -> None:
            out.append(ev)
            for s in sinks:
                s.agent_security_audit_event(ev)  # type: ignore[attr-defined]

        t = trail or AuditTrail(dispatch, signer=signer, sign_every=sign_every)
        if trail is not None:
            t._dispatch = dispatch  # reuse a resumed trail
        for _ in range(n):
            t.record(make_event())
        if close:
            t.close()
        return out

    return write
