from __future__ import annotations

import threading

import pytest

from agent_security.core.builtin import session_context
from agent_security.core.errors import ConfigurationError
from agent_security.core.models import Decision, Outcome, Reason
from agent_security.core.store import MemoryStore

ALLOW = Decision.allow("ALLOW_DEV_STAGING")
REJECTED = Decision(outcome=Outcome.DENY, reasons=(Reason(code="REJECTED"),))


def _call(sc, make_request, make_ctx, tool="trigger_payment", session="session-abc", final=ALLOW):
    req = make_request(tool=tool, agent="agent-pay", session=session)
    ctx = make_ctx()
    res = sc.agent_security_before_check(req, ctx)
    if res is not None:
        sc.agent_security_notify(req, res.decision, ctx)
        return res.decision
    sc.agent_security_notify(req, final, ctx)
    return None


def test_demo_vector_third_payment_denied(make_request, make_ctx, store):
    sc = session_context(limits={"trigger_payment": {"maxPerSession": 2}}, session_ttl_s=600, store=store)
    assert _call(sc, make_request, make_ctx) is None
    assert _call(sc, make_request, make_ctx) is None
    d = _call(sc, make_request, make_ctx)
    assert d.codes == ("SESSION_LIMIT_EXCEEDED",)
    assert d.reasons[0].message == "Tool trigger_payment has been called 2 times in this session (max: 2)"
    assert d.plugin_source == "session_context"
    assert sc.get_session_tool_count("session-abc", "trigger_payment") == 2
    assert sc.get_session_summary("session-abc") == {"trigger_payment": 2}


def test_rejected_calls_do_not_consume(make_request, make_ctx, store):
    sc = session_context(limits={"send_email": 1}, store=store)
    for _ in range(3):
        assert _call(sc, make_request, make_ctx, tool="send_email", final=REJECTED) is None
    assert sc.get_session_tool_count("session-abc", "send_email") == 0
    assert _call(sc, make_request, make_ctx, tool="send_email") is None
    assert _call(sc, make_request, make_ctx, tool="send_email").codes == ("SESSION_LIMIT_EXCEEDED",)


def test_approval_like_final_outcome_is_released(make_request, make_ctx, store):
    sc = session_context(limits={"t": 1}, store=store)
    pending = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="X"),))
    assert _call(sc, make_request, make_ctx, tool="t", final=pending) is None
    assert sc.get_session_tool_count("session-abc", "t") == 0


def test_no_session_or_unlimited_tool_is_ignored(make_request, make_ctx, store):
    sc = session_context(limits={"t": 1}, store=store)
    for _ in range(3):
        assert _call(sc, make_request, make_ctx, tool="t", session=None) is None
        assert _call(sc, make_request, make_ctx, tool="other") is None
    assert len(store) == 0


def test_in_flight_reservations_keep_concurrent_calls_exact(make_request, make_ctx, store):
    sc = session_context(limits={"t": 5}, store=store)
    barrier = threading.Barrier(12)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        req = make_request(tool="t", session="s")
        ctx = make_ctx()
        barrier.wait()
        res = sc.agent_security_before_check(req, ctx)
        barrier.wait()  # every reservation is made before any decision is final
        final = ALLOW if res is None else res.decision
        sc.agent_security_notify(req, final, ctx)
        with lock:
            results.append(res is None)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(True) == 5
    assert sc.get_session_tool_count("s", "t") == 5


def test_sessions_and_tools_with_separators_do_not_collide(make_request, make_ctx, store):
    sc = session_context(limits={"b:c": 1, "c": 1}, store=store)
    assert _call(sc, make_request, make_ctx, tool="b:c", session="a") is None
    assert _call(sc, make_request, make_ctx, tool="c", session="a:b") is None
    assert sc.get_session_summary("a") == {"b:c": 1}
    assert sc.get_session_summary("a:b") == {"c": 1}
    sc.clear_session("a")
    assert sc.get_session_summary("a") == {}
    assert sc.get_session_summary("a:b") == {"c": 1}


def test_ttl_expires_counters(make_request, make_ctx):
    now = [0.0]
    st = MemoryStore(clock=lambda: now[0])
    sc = session_context(limits={"t": 1}, session_ttl_s=60, store=st)
    assert _call(sc, make_request, make_ctx, tool="t") is None
    assert _call(sc, make_request, make_ctx, tool="t") is not None
    now[0] = 61.0
    assert sc.get_session_tool_count("session-abc", "t") == 0
    assert _call(sc, make_request, make_ctx, tool="t") is None


def test_a_flood_of_sessions_never_deletes_another_sessions_counter(make_request, make_ctx, store):
    # Sessions are tracked in the store only: a process seeing many sessions forgets none of the counters
    # that other processes sharing the store rely on (max_sessions is accepted and has no effect).
    sc = session_context(limits={"t": 1}, max_sessions=3, store=store)
    for i in range(10):
        _call(sc, make_request, make_ctx, tool="t", session=f"s{i}")
    assert len(store.scan("session_context:")) == 10
    assert all(sc.get_session_tool_count(f"s{i}", "t") == 1 for i in range(10))
    assert _call(sc, make_request, make_ctx, tool="t", session="s0").codes == ("SESSION_LIMIT_EXCEEDED",)


def test_clear_all(make_request, make_ctx, store):
    sc = session_context(limits={"t": 1}, store=store)
    _call(sc, make_request, make_ctx, tool="t", session="x")
    _call(sc, make_request, make_ctx, tool="t", session="y")
    sc.clear_all()
    assert sc.get_session_summary("x") == {} and sc.get_session_summary("y") == {}
    assert len(store) == 0


@pytest.mark.parametrize("limits", [{"t": -1}, {"t": "3"}, {"t": {"max": 3}}, {"t": True}])
def test_bad_limits(limits):
    with pytest.raises(ConfigurationError):
        session_context(limits=limits)


class _NoScanStore(MemoryStore):
    """A store whose enumeration is an error: the check path must never walk the whole store."""

    def scan(self, prefix: str) -> dict[str, object]:
        raise AssertionError(f"scan({prefix!r}) on the check path")


def test_the_check_path_never_scans_the_store(make_request, make_ctx):
    store = _NoScanStore()
    sc = session_context(limits={"t": 5, "u": 5}, max_sessions=2, store=store)
    _call(sc, make_request, make_ctx, tool="t", session="old")
    _call(sc, make_request, make_ctx, tool="U", session="old")  # counted as "u"
    for i in range(20):  # a flood of new session ids
        _call(sc, make_request, make_ctx, tool="t", session=f"new{i}")
    assert store.get("session_context:old:t") == 1 and store.get("session_context:old:u") == 1
    assert sc.get_session_tool_count("new19", "t") == 1
    assert len(store) == 22  # every session's counters, until their TTL
