"""The speed code (``agent_security.core._speedups``) and the other shortcuts of a check give exactly what
their references give; and the behaviour around them holds."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import AgentSecurity
from agent_security.core._speedups import canonical_json_bytes, reference_json_bytes, remember
from agent_security.core.arguments import MAX_STRING, InputTooLarge, _freeze_walk, freeze_json
from agent_security.core.audit.chain import format_timestamp
from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    AuditEvent,
    Decision,
    RequestContext,
)
from agent_security.core.pipeline.request import MAX_ID_CHARS
from agent_security.core.resolution import request_hash

POLICY = {
    "version": "1",
    "generated_at": "2026-01-01T00:00:00Z",
    "expires_at": "2099-01-01T00:00:00Z",
    "rules": [{"id": "ALLOW_READ", "match": {"tool_name": "read_file"}, "outcome": "ALLOW"}],
    "defaults": {"outcome": "DENY"},
}


def test_utc_timestamp_shortcut_matches_general_form() -> None:
    for ts in (
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=UTC),
        datetime(12, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ):
        assert format_timestamp(ts) == ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def test_hooks_with_reordered_or_fewer_arguments_and_async_hooks_still_run() -> None:
    from agent_security.core import hookimpl
    from agent_security.core.context import CheckContext
    from agent_security.core.models import ActionRequest, PluginResult

    seen: list[str] = []

    class Reordered:
        name = "reordered"

        @hookimpl
        def agent_security_before_check(self, ctx: CheckContext, request: ActionRequest) -> None:
            assert isinstance(ctx, CheckContext) and isinstance(request, ActionRequest)
            seen.append("before_check")

        @hookimpl
        def agent_security_notify(self, decision: Decision) -> None:
            seen.append(f"notify:{decision.outcome.value}")

    class AsyncDeny:
        name = "async_deny"

        @hookimpl
        async def agent_security_before_check(self, request: ActionRequest) -> PluginResult | None:
            if request.action.tool_args.get("deny"):
                return PluginResult(decision=Decision.deny("ASYNC_DENY", "no"))
            return None

    security = AgentSecurity(policy_bundle=POLICY, autoload=False, plugins=[Reordered(), AsyncDeny()])
    assert security.check_tool_call(tool_name="read_file", agent_id="a").allowed
    denied = security.check_tool_call(tool_name="read_file", tool_args={"deny": True}, agent_id="a")
    assert not denied.allowed and denied.final_decision.codes == ("ASYNC_DENY",)
    assert seen == ["before_check", "notify:ALLOW", "before_check", "notify:DENY"]


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))


@settings(max_examples=200, deadline=None)
@given(
    args=st.dictionaries(
        st.one_of(st.text(max_size=6), st.integers()),
        st.one_of(_scalars, st.lists(_scalars, max_size=3), st.dictionaries(st.text(max_size=3), _scalars, max_size=2)),
        max_size=6,
    )
)
def test_flat_freeze_equals_general_walk(args: dict[Any, Any]) -> None:
    fast = freeze_json(args)
    general = _freeze_walk(args)
    assert json.dumps(fast, sort_keys=True) == json.dumps(general, sort_keys=True)
    assert list(fast) == list(general)


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        _scalars,
        lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)),
        max_leaves=10,
    )
)
def test_canonical_json_bytes_are_json_dumps(value: Any) -> None:
    body = {"a": "x", "k": value, "n": None}  # the callers' bodies: sorted ASCII keys
    try:
        expected = reference_json_bytes(body)
    except ValueError:
        with pytest.raises(ValueError):
            canonical_json_bytes(body, "k")
        return
    assert canonical_json_bytes(body, "k") == expected


@pytest.mark.parametrize("update", [{"sequence": 3, "hash": "h"}, {"data": {"k": [1]}}, {}])
def test_evolve_is_model_copy(update: dict[str, Any]) -> None:
    from agent_security.core._speedups import evolve
    from agent_security.core.models import AuditEvent

    event = AuditEvent(kind="decision", agent_id="a", data={"x": 1})
    a, b = evolve(event, update), event.model_copy(update=update)
    assert a == b and list(a.__dict__) == list(b.__dict__) and a.model_fields_set == b.model_fields_set


def test_assemble_is_the_validating_constructor_for_values_of_the_right_types() -> None:
    from agent_security.core._speedups import assemble
    from agent_security.core.models import AuditEvent, Outcome, Reason

    values: dict[str, Any] = {
        "kind": "decision",
        "agent_id": "a",
        "outcome": Outcome.DENY,
        "allowed": False,
        "reasons": (Reason(code="C"),),
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "data": {"phase": "decided"},
    }
    built, validated = assemble(AuditEvent, dict(values)), AuditEvent(**values)
    assert built.model_dump(exclude={"event_id"}) == validated.model_dump(exclude={"event_id"})
    assert list(built.__dict__) == list(validated.__dict__) and built.event_id != validated.event_id
    assert built.model_fields_set == validated.model_fields_set == set(values)


def test_remember_is_bounded() -> None:
    memo: dict[int, int] = {}
    for n in range(1000):
        remember(memo, n, n, 64)
        assert len(memo) <= 64 and memo[n] == n


def test_freeze_bounds_still_raise_from_the_flat_path() -> None:
    with pytest.raises(InputTooLarge):
        freeze_json({"k": "x" * (MAX_STRING + 1)})
    with pytest.raises(InputTooLarge):
        freeze_json({"x" * (MAX_STRING + 1): 1})
    assert freeze_json({"n": float("inf"), "b": b"x"}) == {"n": "inf", "b": "x"}


def _reference_request_hash(request: ActionRequest) -> str:
    body = {
        "agent_id": request.agent.agent_id,
        "environment": request.agent.environment,
        "action_type": request.action.type,
        "tool_name": request.action.tool_name,
        "tool_args": request.action.tool_args,
        "session_id": request.context.session_id,
        "user_input": request.context.user_input,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_texts = st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb", '\x00\x1f\b"\\', "é\u2028", "Z", "a"])
_arg_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    _texts,
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    args=st.dictionaries(_texts, _arg_values, max_size=5),
    text=_texts,
    session=st.none() | _texts,
    user_input=st.none() | _texts,
)
def test_request_hash_bytes_are_canonical_json(
    args: dict[str, Any], text: str, session: str | None, user_input: str | None
) -> None:
    request = ActionRequest(
        agent=AgentInfo(agent_id=f"a{text}", environment=text),
        action=Action(tool_name=text or "t", tool_args=args),
        context=RequestContext(session_id=session, user_input=user_input),
    )
    try:
        expected: str | type[Exception] = _reference_request_hash(request)
    except (UnicodeEncodeError, ValueError) as exc:
        expected = type(exc)
    if isinstance(expected, str):
        assert request_hash(request) == expected
    else:
        with pytest.raises(expected):
            request_hash(request)


def test_ids_are_unique_uuid_strings_of_the_version_8_layout() -> None:
    import itertools
    import uuid

    from agent_security.core.models import new_id

    ids = [new_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    prefixes = set()
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 8 and parsed.variant == uuid.RFC_4122
        prefixes.add(text[:24])
    assert len(prefixes) == 1  # the random part is drawn once per process (and again after a fork)
    counters = [int(text[24:], 16) for text in ids]
    assert all((b - a) % 2**48 >= 1 for a, b in itertools.pairwise(counters))


@pytest.mark.parametrize("block", [0, 1, 0xABC, 2**39, 2**40 - 1, 2**40, 2**40 + 0x1F, 2**60 + 7])
def test_an_id_ends_with_the_counter_as_12_lowercase_hex_digits(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from agent_security.core import _ids

    prefix, _ = _ids._state
    blocks = iter([block, block + 1])
    monkeypatch.setattr(_ids, "_state", (prefix, lambda: next(blocks)))
    monkeypatch.setattr(_ids, "_ids", iter(()))  # the current block used up: the next id starts a new one
    made = [_ids.new_id() for _ in range(257)]  # a whole block and the first id of the next
    first = block * 256
    assert made == [f"{prefix}{(first + i) % 2**48:012x}" for i in range(257)]  # zero-padded, wrapped at 48 bits
    for text in (made[0], made[255], made[256]):
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 8


def test_ids_from_many_threads_never_repeat() -> None:
    import threading

    from agent_security.core.models import new_id

    found: list[list[str]] = [[] for _ in range(8)]

    def make(out: list[str]) -> None:
        out.extend(new_id() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(out,)) for out in found]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    every = [i for out in found for i in out]
    assert len(set(every)) == len(every) == 40_000


def test_approval_nonces_are_random_version_4_uuids() -> None:
    import uuid

    from agent_security.core import Resolution

    nonces = [Resolution(approved=True).nonce for _ in range(2000)]
    assert len(set(nonces)) == len(nonces)
    for text in nonces:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # no shared prefix: every bit but the version and variant is random
    assert len({n[:8] for n in nonces}) > 1900


@settings(max_examples=300, deadline=None)
@given(ts=st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=4))
def test_utc_timestamp_cache_never_mixes_seconds(ts: list[datetime]) -> None:
    for value in ts:
        assert format_timestamp(value) == value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def test_refused_audit_write_still_denies_and_returns_the_unchained_event() -> None:
    from agent_security.core import hookimpl

    class Broken:
        name = "broken_sink"
        fail = False

        @hookimpl
        def agent_security_audit_event(self, event: AuditEvent) -> None:
            if self.fail:
                raise OSError("disk full")

    broken = Broken()
    security = AgentSecurity(policy_bundle=POLICY, autoload=False, audit_sinks=[broken])
    ok = security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s")
    assert ok.allowed and ok.event.sequence > 0 and ok.event.hash and ok.event is security.get_audit_log()[-1]
    broken.fail = True
    denied = security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s")
    assert not denied.allowed
    assert denied.final_decision.codes == ("ALLOW_READ", "PLUGIN_ERROR", "AUDIT_FAILURE")
    assert denied.event.sequence == 0 and denied.event.hash is None and denied.event.prev_hash is None
    assert denied.event.data == {"phase": "decided", "action_type": "tool_call", "session_id": "s"}
    assert "sequence" not in denied.event.model_fields_set
    # The chain advanced (the memory sink received the chained event before the broken one refused it).
    chained = security.get_audit_log()[-1]
    assert chained.event_id == denied.event.event_id and chained.sequence == ok.event.sequence + 1
    assert chained.prev_hash == ok.event.hash


def test_memory_store_get_many_reads_values_defaults_and_expiry_together() -> None:
    from agent_security.core.store import MemoryStore

    now = [100.0]
    store = MemoryStore(clock=lambda: now[0])
    store.set("a", 1)
    store.set("b", {"nested": [1]}, ttl_s=5)
    store.set("c", "x", ttl_s=50)
    got = store.get_many(["a", "b", "missing", "c"], default=0)
    assert got == [1, {"nested": [1]}, 0, "x"]
    got[1]["nested"].append(2)  # a copy, as get() returns
    assert store.get("b") == {"nested": [1]}
    now[0] = 106.0
    assert store.get_many(["b", "c"]) == [None, "x"]
    assert "b" not in store.scan("")  # the expired key was dropped


def test_the_hook_plan_follows_plugin_registration() -> None:
    from agent_security.core import hookimpl
    from agent_security.core.models import Decision as D

    class Deny:
        name = "deny_all"

        @hookimpl
        def agent_security_before_check(self, request: object, ctx: object) -> object:
            from agent_security.core.models import PluginResult

            return PluginResult(decision=D.deny("NOPE", "no"))

    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    assert security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s").allowed
    security.register_plugin(Deny())
    assert security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s").final_decision.codes == (
        "NOPE",
    )
    security.unregister_plugin("deny_all")
    assert security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s").allowed


def test_a_check_reads_the_wall_clock_once_for_its_request_and_its_context() -> None:
    from itertools import count

    from agent_security.core import hookimpl

    ticks = count()
    seen: list[tuple[datetime, datetime]] = []

    class Clocked:
        name = "clocked"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            seen.append((request.timestamp, ctx.now))

    def clock() -> datetime:  # every reading is a different second
        return datetime(2026, 1, 1, 0, 0, next(ticks) % 60, tzinfo=UTC)

    security = AgentSecurity(policy_bundle=POLICY, autoload=False, plugins=[Clocked()], clock=clock)
    security.check_tool_call(tool_name="read_file", agent_id="a")
    security.check_request(security.build_request(tool_name="read_file", agent_id="a"))
    (built_ts, built_now), (given_ts, given_now) = seen
    assert built_now == built_ts  # built by the check: the request's time is the check's time
    assert given_now > given_ts  # handed a request: the check reads the clock itself


@pytest.mark.parametrize(
    ("param", "field"),
    [
        ("agent_id", "agent_id"),
        ("agent_name", "name"),
        ("environment", "environment"),
        ("owner", "owner"),
        ("action_type", "type"),
        ("session_id", "session_id"),
        ("trace_id", "trace_id"),
        ("parent_agent_id", "parent_agent_id"),
        ("agent_type", "agent_type"),
    ],
)
def test_every_plain_field_is_bounded_and_named_when_too_long(param: str, field: str) -> None:
    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    fields: dict[str, Any] = {"tool_name": "t", "agent_id": "a"}
    at_limit = security.build_request(**{**fields, param: "x" * MAX_ID_CHARS})
    assert at_limit.request_id
    with pytest.raises(InputTooLarge, match=f"^{param} is longer than {MAX_ID_CHARS} characters$"):
        security.build_request(**{**fields, param: "x" * (MAX_ID_CHARS + 1)})


# -- freeze_plain: the plain-data copy of freeze_json --------------------------------------------------

_plain_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_plain_values = st.recursive(
    _plain_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.frozensets(st.integers(), max_size=3)
        | st.dictionaries(st.integers(), inner, max_size=2)
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(value=_plain_values)
def test_freeze_plain_equals_the_general_walk(value: Any) -> None:
    from agent_security.core._speedups.freeze import NOT_PLAIN, freeze_plain
    from agent_security.core.arguments import _BOUNDS, _freeze_walk

    fast = freeze_plain(value, _BOUNDS)
    reference = _freeze_walk(value)
    if fast is not NOT_PLAIN:
        assert fast == reference
        assert json.dumps(fast, sort_keys=True) == json.dumps(reference, sort_keys=True)


def test_freeze_plain_leaves_what_it_does_not_take_to_the_general_walk() -> None:
    from agent_security.core._speedups.freeze import NOT_PLAIN, freeze_plain
    from agent_security.core.arguments import _BOUNDS, InputTooLarge, freeze_json

    class Text(str):
        def lower(self) -> str:
            return "innocent"

    deep: Any = "x"
    for _ in range(_BOUNDS.depth + 1):
        deep = [deep]
    for value in ({"a": Text("rm -rf /")}, {1: "a"}, {"a": {1, 2}}, float("nan"), b"bytes", deep):
        assert freeze_plain(value, _BOUNDS) is NOT_PLAIN
    assert freeze_json({"a": Text("rm -rf /")}) == {"a": "rm -rf /"}
    assert type(freeze_json({"a": Text("rm -rf /")})["a"]) is str
    with pytest.raises(InputTooLarge, match="deeper"):
        freeze_json(deep)
    assert freeze_plain({"a": [1, (2, {"b": None})]}, _BOUNDS) == {"a": [1, [2, {"b": None}]]}


def test_freeze_plain_counts_and_bounds_the_strings_it_copies_as_members() -> None:
    """A string member of a mapping (copied without a call of its own) is held to the same bounds as any
    other string: its length, and its characters towards the total."""
    from agent_security.core._speedups.freeze import NOT_PLAIN, Bounds, freeze_plain

    bounds = Bounds(depth=4, items=10, string=3, chars=7, int_bits=64)
    assert freeze_plain({"a": "abc", "b": None, "c": True}, bounds) == {"a": "abc", "b": None, "c": True}
    assert freeze_plain({"a": "abcd"}, bounds) is NOT_PLAIN
    assert freeze_plain({"a": "abc", "b": "ab"}, bounds) == {"a": "abc", "b": "ab"}  # 7 characters, keys too
    assert freeze_plain({"a": "abc", "b": "abc"}, bounds) is NOT_PLAIN  # 8 characters
    assert freeze_plain({"a": {"b": "abcd"}}, bounds) is NOT_PLAIN
