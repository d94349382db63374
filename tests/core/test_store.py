"""MemoryStore: expiry, the eviction order under a key flood, and claims (single-use tokens).

The eviction order is checked against a plain reference model (the specification, written the obvious
O(n) way) over random operation sequences; the cost of eviction under a flood is measured in
``benchmarks/bench_store.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import AgentSecurity, Decision, Outcome, Reason
from agent_security.core.builtin import session_context
from agent_security.core.resolution import Resolution
from agent_security.core.store import MemoryStore, StoreFull
from agent_security.core.store.windows import EXACT_LIMIT, SLOTS
from agent_security.core.testing import StaticEngine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reference:
    """The specification of MemoryStore's key/value part: over ``max_keys``, drop expired keys, then the
    least recently written keys with a TTL (never the key being written), then durable keys."""

    def __init__(self, max_keys: int, clock: Clock) -> None:
        self.data: OrderedDict[str, tuple[Any, float | None]] = OrderedDict()
        self.max_keys, self.clock = max_keys, clock

    def _live(self, key: str) -> tuple[Any, float | None] | None:
        item = self.data.get(key)
        if item is not None and item[1] is not None and self.clock() >= item[1]:
            del self.data[key]
            return None
        return item

    def get(self, key: str) -> Any:
        item = self._live(key)
        return None if item is None else item[0]

    def _put(self, key: str, value: Any, expires: float | None) -> None:
        self.data[key] = (value, expires)
        self.data.move_to_end(key)
        if len(self.data) <= self.max_keys:
            return
        now = self.clock()
        for k in [k for k, (_, e) in self.data.items() if e is not None and now >= e]:
            if len(self.data) <= self.max_keys:
                break
            del self.data[k]
        for durable in (False, True):
            for k in [k for k, (_, e) in self.data.items() if (e is None) is durable and k != key]:
                if len(self.data) <= self.max_keys:
                    return
                del self.data[k]

    def set(self, key: str, value: Any, ttl_s: float | None) -> None:
        self._put(key, value, None if ttl_s is None else self.clock() + ttl_s)

    def incr(self, key: str, ttl_s: float | None) -> int:
        item = self._live(key)
        if item is None:
            self._put(key, 1, None if ttl_s is None else self.clock() + ttl_s)
            return 1
        self._put(key, item[0] + 1, item[1])
        return int(item[0]) + 1

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def live_keys(self) -> set[str]:
        now = self.clock()
        return {k for k, (_, e) in self.data.items() if e is None or now < e}


_ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "set_ttl", "incr", "incr_ttl", "get", "delete", "tick"]),
        st.integers(0, 11),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(_ops, st.integers(1, 6))
def test_eviction_follows_the_reference_order(ops: list[tuple[str, int]], max_keys: int) -> None:
    clock = Clock()
    store, ref = MemoryStore(max_keys=max_keys, clock=clock), Reference(max_keys, clock)
    for i, (op, n) in enumerate(ops):
        key = f"k{n}"
        if op == "set":
            store.set(key, i)
            ref.set(key, i, None)
        elif op == "set_ttl":
            store.set(key, i, ttl_s=5 + n % 3)
            ref.set(key, i, 5 + n % 3)
        elif op == "incr":
            assert store.incr(key) == ref.incr(key, None)
        elif op == "incr_ttl":
            assert store.incr(key, ttl_s=5 + n % 3) == ref.incr(key, 5 + n % 3)
        elif op == "get":
            assert store.get(key) == ref.get(key)
        elif op == "delete":
            store.delete(key)
            ref.delete(key)
        else:
            clock.now += n
        assert set(store.scan("k")) == ref.live_keys()
        assert len(store) <= max_keys


def test_written_key_survives_and_expired_keys_go_first() -> None:
    clock = Clock()
    store = MemoryStore(max_keys=3, clock=clock)
    store.set("old", 1, ttl_s=1)
    store.set("durable", 2)
    store.set("counter", 3, ttl_s=100)
    clock.now += 2  # "old" has expired; it goes before the older-written live counter
    store.set("new", 4, ttl_s=100)
    assert store.scan("") == {"durable": 2, "counter": 3, "new": 4}
    store.set("newer", 5, ttl_s=100)  # no expired key left: the oldest key with a TTL goes
    assert store.scan("") == {"durable": 2, "new": 4, "newer": 5}


def test_a_key_moving_between_durable_and_expiring_is_tracked() -> None:
    clock = Clock()
    store = MemoryStore(max_keys=2, clock=clock)
    store.set("a", 1, ttl_s=10)
    store.set("a", 2)  # now durable: must not be evicted as an expiring key
    store.set("b", 3, ttl_s=10)
    store.set("c", 4, ttl_s=10)
    assert store.get("a") == 2 and store.get("b") is None and store.get("c") == 4
    clock.now += 20
    assert store.get("a") == 2  # durable now: the old TTL no longer applies


# -- claims -------------------------------------------------------------------------------------------


def test_claim_is_single_use_until_it_expires() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    assert store.claim("nonce:1", ttl_s=10) is True
    assert store.claim("nonce:1", ttl_s=10) is False
    clock.now += 10
    assert store.claim("nonce:1", ttl_s=10) is True


def test_a_flood_of_other_keys_cannot_evict_a_claim() -> None:
    store = MemoryStore(max_keys=10)
    assert store.claim("nonce:used", ttl_s=3600)
    for i in range(1000):
        store.incr(f"session:{i}", ttl_s=3600)
        store.set(f"durable:{i}", i)
    assert store.claim("nonce:used", ttl_s=3600) is False


def test_claims_refuse_rather_than_forget() -> None:
    clock = Clock()
    store = MemoryStore(max_claims=2, clock=clock)
    assert store.claim("a", ttl_s=10) and store.claim("b", ttl_s=20)
    with pytest.raises(StoreFull):
        store.claim("c", ttl_s=10)
    assert store.claim("a", ttl_s=10) is False and store.claim("b", ttl_s=10) is False
    clock.now += 10  # "a" expired: its room can be reused, "b" is still live
    assert store.claim("c", ttl_s=10) is True
    assert store.claim("b", ttl_s=10) is False


# -- the pipeline's approvals ---------------------------------------------------------------------------

_GATE = StaticEngine(
    lambda r: (
        Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),))
        if r.action.tool_name == "pay"
        else Decision.allow("OK")
    )
)


def _replaying_security(store: MemoryStore, **kw: Any) -> tuple[AgentSecurity, list[Resolution]]:
    token = Resolution(approved=True, resolver="alice")  # one approval handed back for every call
    return AgentSecurity(
        policy_engine=_GATE, autoload=False, store=store, on_approval_required=lambda r, d: token, **kw
    ), [token]


def test_an_approval_replayed_after_a_key_flood_is_still_refused() -> None:
    store = MemoryStore(max_keys=20)
    security, _ = _replaying_security(store, plugins=[session_context({"read": 1_000_000})])
    assert security.check_tool_call(tool_name="pay", agent_id="a", session_id="s0").allowed
    for i in range(200):  # caller-chosen session ids: every one writes a counter with a TTL
        assert security.check_tool_call(tool_name="read", agent_id="a", session_id=f"flood-{i}").allowed
    replay = security.check_tool_call(tool_name="pay", agent_id="a", session_id="s1")
    assert replay.allowed is False
    assert "APPROVAL_REPLAYED" in replay.final_decision.codes


def test_an_approval_whose_single_use_cannot_be_recorded_is_denied() -> None:
    store = MemoryStore(max_claims=1)
    assert store.claim("approval:nonce:someone-else", ttl_s=3600)
    errors: list[str] = []
    security, _ = _replaying_security(store, on_error=lambda exc, where: errors.append(where))
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert result.allowed is False
    assert result.final_decision.codes[-1] == "APPROVAL_UNVERIFIABLE"
    assert result.final_decision.outcome is Outcome.DENY
    assert "store:claim" in errors
    assert any(e.kind == "resolution" and e.outcome is Outcome.DENY for e in security.get_audit_log())


def test_plain_approvals_do_not_use_up_the_claims() -> None:
    # A callback answering True (or a ticket id) hands over no token that could be replayed: its
    # approvals must not each hold a claim for a week, or a busy resolver would exhaust the store and
    # every later approval would be refused as unverifiable.
    store = MemoryStore(max_claims=2)
    for answer, outcome in ((True, Outcome.REQUIRE_APPROVAL), ("TICKET-1", Outcome.REQUIRE_TICKET)):
        gate = StaticEngine(lambda r, o=outcome: Decision(outcome=o, reasons=(Reason(code="G", message="g"),)))
        security = AgentSecurity(
            policy_engine=gate,
            autoload=False,
            store=store,
            on_approval_required=lambda r, d: True,
            on_ticket_required=lambda r, d: "TICKET-1",
        )
        for _ in range(10):
            result = security.check_tool_call(tool_name="pay", agent_id="a")
            assert result.allowed, (answer, result.final_decision.codes)
    assert len(store._claims) == 0
    token_security, _ = _replaying_security(store)  # a Resolution handed over is still single-use
    assert token_security.check_tool_call(tool_name="pay", agent_id="a").allowed
    assert "APPROVAL_REPLAYED" in token_security.check_tool_call(tool_name="pay", agent_id="a").final_decision.codes


def test_rewritten_deadlines_do_not_accumulate() -> None:
    # A key rewritten with a new TTL over and over, in a store that never fills up: the deadline index
    # must not keep one stale entry per write.
    clock = Clock()
    store = MemoryStore(clock=clock)
    for i in range(10_000):
        clock.now += 0.001
        store.set("token", i, ttl_s=60)
    assert store.get("token") == 9_999
    assert len(store._deadlines) <= 2 * len(store) + 64


# -- sliding windows -----------------------------------------------------------------------------------

_window_ops = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),  # keys of one call
        st.integers(1, 4),  # limit (at most EXACT_LIMIT: one timestamp per admitted call)
        st.floats(-3.0, 6.0),  # clock step: negative steps are calls that reach the store out of order
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(_window_ops, st.sampled_from([1.0, 2.5, 10.0]))
def test_windows_follow_the_reference(ops: list[tuple[list[str], int, float]], window_s: float) -> None:
    # Reference (the sliding window log, exact for limits up to EXACT_LIMIT): touching a window (admitting
    # into it or counting it) at ``now`` forgets every time t <= now - window_s it holds; a call is
    # admitted only when every window then holds fewer than its limit, and is then recorded in every
    # window. Calls may arrive out of clock order.
    store = MemoryStore()
    ref: dict[str, list[float]] = {"a": [], "b": [], "c": []}

    def touch(key: str, now: float) -> list[float]:
        ref[key] = [t for t in ref[key] if t > now - window_s]
        return ref[key]

    now = 100.0
    for keys, limit, step in ops:
        now += step
        limits = [limit] * len(keys)
        live = {k: touch(k, now) for k in keys}
        admitted = all(lim <= 0 or len(live[k]) < lim for k, lim in zip(keys, limits, strict=True))
        verdict = store.window_admit(keys, limits, now=now, window_s=window_s)
        assert verdict.admitted is admitted
        if admitted:
            for k in keys:
                ref[k].append(now)
        assert verdict.counts == tuple(len(ref[k]) for k in keys)
        for k in ref:
            assert store.window_count(k, now=now, window_s=window_s) == len(touch(k, now))


def test_a_full_exact_window_forgets_from_the_oldest_end() -> None:
    # A window at its limit, in steady state: each call forgets the one event that left the window and
    # records its own, and the count stays exact.
    store = MemoryStore()
    n = EXACT_LIMIT
    for i in range(n):
        assert store.window_admit(["k"], [n], now=float(i), window_s=float(n)).admitted
    assert not store.window_admit(["k"], [n], now=float(n - 0.5), window_s=float(n)).admitted
    for i in range(n, n + 1_000):
        verdict = store.window_admit(["k"], [n], now=float(i), window_s=float(n))
        assert verdict.admitted and verdict.counts == (n,)
    assert store.window_count("k", now=float(n + 999), window_s=float(n)) == n
    assert store.window_count("k", now=float(3 * n + 1_000), window_s=float(n)) == 0
    assert len(store) == 0  # an emptied window is dropped


_slotted_ops = st.lists(st.tuples(st.integers(0, 8), st.floats(0.0, 3.0)), max_size=300)


@settings(max_examples=150, deadline=None)
@given(_slotted_ops, st.sampled_from([1.0, 2.5, 10.0]))
def test_slotted_windows_never_over_admit_and_refuse_at_most_one_slot_early(
    ops: list[tuple[int, float]], window_s: float
) -> None:
    # Limits above EXACT_LIMIT (and 0, unlimited) are counted in SLOTS slots. Against the exact log of the
    # admitted calls: the count is never below the calls in (now - window_s, now] (so the limit is never
    # exceeded), never above the calls in (now - window_s - slot, now], and the window holds at most
    # SLOTS + 1 entries whatever the traffic.
    store = MemoryStore()
    slot = window_s / SLOTS
    admitted: list[float] = []
    now = 100.0
    for extra, step in ops:
        now += step
        limit = 0 if extra == 0 else EXACT_LIMIT + extra
        verdict = store.window_admit(["k"], [limit], now=now, window_s=window_s)
        in_window = sum(1 for t in admitted if t > now - window_s)
        in_window_and_a_slot = sum(1 for t in admitted if t > now - window_s - slot)
        before = verdict.counts[0] - (1 if verdict.admitted else 0)
        assert in_window <= before <= in_window_and_a_slot
        if verdict.admitted:
            assert limit <= 0 or before < limit
            admitted.append(now)
        else:
            assert before >= limit > 0
        assert len(store._windows["k"].entries) <= SLOTS + 1 if "k" in store._windows else True


def test_a_window_holds_a_bounded_number_of_entries_under_any_traffic() -> None:
    store = MemoryStore()
    for i in range(50_000):
        assert store.window_admit(["k"], [0], now=i / 1000, window_s=60.0).admitted
        assert store.window_admit(["j"], [1_000_000], now=i / 1000, window_s=60.0).admitted
    assert len(store._windows["k"].entries) <= SLOTS + 1 and len(store._windows["j"].entries) <= SLOTS + 1
    assert store.window_count("j", now=50.0, window_s=60.0) == 50_000


def test_a_live_window_is_never_dropped_to_make_room() -> None:
    store = MemoryStore(max_keys=3)
    for key in ("a", "b", "c"):
        assert store.window_admit([key], [5], now=0.0, window_s=10.0).admitted
    with pytest.raises(StoreFull):
        store.window_admit(["d"], [5], now=1.0, window_s=10.0)
    assert store.window_count("a", now=1.0, window_s=10.0) == 1  # nothing was forgotten or recorded
    assert store.window_count("d", now=1.0, window_s=10.0) == 0
    assert store.window_admit(["a"], [5], now=1.0, window_s=10.0).counts == (2,)  # existing windows go on
    # Once the least recently used windows' events have left their span, they make room.
    assert store.window_admit(["d", "e"], [5, 5], now=10.5, window_s=10.0).admitted
    assert store.window_count("a", now=10.5, window_s=10.0) == 1
    assert store.window_count("b", now=10.5, window_s=10.0) == 0


def test_window_verdicts_are_plain_window_verdicts() -> None:
    # window_admit builds its verdicts without the dataclass __init__ (a hot path): they must be the
    # same frozen values, whichever path made them (one key, several keys, admitted or refused).
    import dataclasses

    from agent_security.core.store import WindowVerdict

    store = MemoryStore()
    cases = [
        (store.window_admit(["a"], [1], now=0.0, window_s=10.0), WindowVerdict(True, (1,))),
        (store.window_admit(["a"], [1], now=1.0, window_s=10.0), WindowVerdict(False, (1,), 0)),
        (store.window_admit(["b", "c"], [2, 2], now=1.0, window_s=10.0), WindowVerdict(True, (1, 1))),
        (store.window_admit(["b", "a"], [2, 1], now=2.0, window_s=10.0), WindowVerdict(False, (1, 1), 1)),
        (store.window_admit(["c", "c"], [3, 3], now=3.0, window_s=10.0), WindowVerdict(True, (2, 3))),
    ]
    for got, want in cases:
        assert type(got) is WindowVerdict
        assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
        with pytest.raises(dataclasses.FrozenInstanceError):
            got.admitted = not got.admitted  # type: ignore[misc]


def test_one_window_admission_and_counters_are_exact_under_concurrency() -> None:
    # window_admit's one-key path and incr's in-place update are the hot ones: still one lock each.
    import sys
    import threading

    store = MemoryStore()
    admitted: list[int] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        ok = 0
        for i in range(200):
            if store.window_admit(["k"], [500], now=1.0 + (n * 200 + i) * 1e-6, window_s=60.0).admitted:
                ok += 1
            store.incr("c", 1, ttl_s=60.0)
        admitted.append(ok)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)
    assert sum(admitted) == 500
    assert store.window_count("k", now=2.0, window_s=60.0) == 500
    assert store.get("c") == 1_600
