"""The pipeline's shortcuts build exactly what the validating constructors build."""

from __future__ import annotations

import abc
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agent_security.core import AgentSecurity
from agent_security.core._fast import TRUSTED_MODELS, py_trusted, trusted, trusted_copy
from agent_security.core._util import (
    MAX_STRING,
    InputTooLarge,
    _freeze_walk,
    canonical_json,
    freeze_json,
    request_hash,
)
from agent_security.core.audit.chain import format_timestamp
from agent_security.core.models import (
    Action,
    ActionRequest,
    AgentInfo,
    AuditEvent,
    Decision,
    Outcome,
    Reason,
    RequestContext,
)

POLICY = {"version": "1", "generated_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z",
          "rules": [{"id": "ALLOW_READ", "match": {"tool_name": "read_file"}, "outcome": "ALLOW"}],
          "defaults": {"outcome": "DENY"}}


def _same(a: object, b: object) -> None:
    assert type(a) is type(b)
    assert a == b
    assert a.__dict__ == b.__dict__  # type: ignore[attr-defined]
    assert list(a.__dict__) == list(b.__dict__)  # type: ignore[attr-defined]
    assert a.model_fields_set == b.model_fields_set  # type: ignore[attr-defined]


def test_trusted_equals_validated() -> None:
    reason = Reason(code="C", message="m")
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    validated = AuditEvent(kind="decision", agent_id="a", outcome=Outcome.DENY, reasons=(reason,), timestamp=ts,
                           data={"k": 1}, event_id="e")
    built = trusted(AuditEvent, dict(validated.__dict__), set(validated.model_fields_set))
    _same(built, validated)
    _same(trusted_copy(validated, {"sequence": 3, "hash": "h"}),
          validated.model_copy(update={"sequence": 3, "hash": "h"}))
    d = Decision.allow("X")
    _same(trusted_copy(d, {"plugin_source": "p"}), d.model_copy(update={"plugin_source": "p"}))


def _validated_instances() -> list[Any]:
    reason = Reason(code="C", message="m")
    agent = AgentInfo(agent_id="a", environment="prod")
    action = Action(tool_name="t", tool_args={"k": [1, "x"]})
    context = RequestContext(session_id="s")
    request = ActionRequest(agent=agent, action=action, context=context)
    decision = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(reason,), approver_role="lead")
    event = AuditEvent(kind="decision", agent_id="a", outcome=Outcome.DENY, reasons=(reason,), data={"k": 1})
    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    result = security.check_tool_call(tool_name="read_file", agent_id="a")
    return [reason, agent, action, context, request, decision, event, result]


@pytest.mark.parametrize("build", [trusted, py_trusted], ids=["trusted", "py_trusted"])
def test_both_trusted_builders_equal_the_validating_constructor(build: Any) -> None:
    # In the compiled wheel ``trusted`` is the C version (_fastc.pyx); in the pure one, py_trusted itself.
    instances = _validated_instances()
    assert {type(m) for m in instances} == set(TRUSTED_MODELS)
    for validated in instances:
        built = build(type(validated), dict(validated.__dict__), set(validated.model_fields_set))
        _same(built, validated)
        assert built.__pydantic_extra__ is None and built.__pydantic_private__ is None
        assert built.model_dump() == validated.model_dump()
        assert built.model_dump_json() == validated.model_dump_json()
        with pytest.raises(ValidationError):  # frozen, as the validated one
            setattr(built, next(iter(type(built).model_fields)), None)
        assert repr(built) == repr(validated)


@pytest.mark.parametrize("build", [trusted, py_trusted], ids=["trusted", "py_trusted"])
def test_both_trusted_builders_refuse_what_object_new_refuses(build: Any) -> None:
    class Abstract(abc.ABC):
        @abc.abstractmethod
        def f(self) -> None: ...

    with pytest.raises(TypeError):
        build(Abstract, {}, set())
    with pytest.raises(TypeError):
        build("not a class", {}, set())
    with pytest.raises((TypeError, AttributeError)):  # a class without pydantic's slots
        build(int, {}, set())


def test_pipeline_models_equal_their_validated_form() -> None:
    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    result = security.check_tool_call(tool_name="read_file", tool_args={"b": [1, {"z": None, "a": "x"}], "a": True},
                                      agent_id="agent-1", environment="prod", session_id="s-1", user_input="hi")
    for model in (result.request, result.request.agent, result.request.action, result.request.context, result.event,
                  result):
        again = type(model).model_validate(model.model_dump())
        assert again == model
    # What a validating constructor marks as set, the shortcut marks too.
    assert result.request.agent.model_fields_set == {"agent_id", "name", "owner", "environment"}
    assert result.request.context.model_fields_set == {"session_id", "user_input"}
    assert {"kind", "request_id", "data", "hash", "sequence"} <= result.event.model_fields_set


def test_pipeline_models_share_one_unchangeable_fields_set_per_model() -> None:
    import copy
    import pickle

    from agent_security.core._fast import FieldsSet

    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    first = security.check_tool_call(tool_name="read_file", tool_args={"p": "a"}, agent_id="agent-1")
    second = security.check_tool_call(tool_name="read_file", tool_args={"p": "b"}, agent_id="agent-2")
    for a, b in ((first, second), (first.event, second.event), (first.request, second.request),
                 (first.request.action, second.request.action)):
        shared = a.model_fields_set
        assert type(shared) is FieldsSet and shared is b.model_fields_set  # one set, not one per check
        before = set(shared)
        for change in (lambda s: s.add("x"), lambda s: s.discard("request"), lambda s: s.clear(),
                       lambda s: s.update({"x"}), lambda s: s.pop(), lambda s: s.remove("x"),
                       lambda s: s.difference_update({"request"})):
            with pytest.raises(TypeError):
                change(shared)
        with pytest.raises(TypeError):
            shared |= {"x"}
        assert shared == before
        # What pydantic does with it: copies are plain sets, an update marks the field on the copy only.
        field = next(iter(before))
        updated = a.model_copy(update={field: getattr(a, field)})
        assert updated.model_fields_set == before and type(updated.model_fields_set) is set
        assert type(copy.copy(a).model_fields_set) is set and type(copy.deepcopy(a).model_fields_set) is set
        assert pickle.loads(pickle.dumps(shared)) == before
        assert shared is b.model_fields_set == before


def test_field_values_are_the_fields_and_respect_a_subclass() -> None:
    from agent_security.core._fast import field_values

    decision = Decision.deny("X", "no", plugin_source="p")
    values = field_values(decision)
    assert values is decision.__dict__  # a core model: its own dict, no copy
    assert {name: values[name] for name in Decision.model_fields} == {
        name: getattr(decision, name) for name in Decision.model_fields}

    class Renamed(Decision):  # a subclass may compute what a field reads as: attributes are asked
        def __getattribute__(self, name: str) -> Any:
            return "computed" if name == "plugin_source" else super().__getattribute__(name)

    other = Renamed.model_validate(decision.model_dump())
    view = field_values(other)
    assert view["plugin_source"] == "computed" and view["outcome"] is Outcome.DENY
    assert list(view) == list(Decision.model_fields) and len(view) == len(Decision.model_fields)
    with pytest.raises(KeyError):
        view["no_such_field"]


def test_utc_timestamp_shortcut_matches_general_form() -> None:
    for ts in (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC),
               datetime(12, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)):
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
@given(args=st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), st.one_of(
    _scalars, st.lists(_scalars, max_size=3), st.dictionaries(st.text(max_size=3), _scalars, max_size=2)),
    max_size=6))
def test_flat_freeze_equals_general_walk(args: dict[Any, Any]) -> None:
    fast = freeze_json(args)
    general = _freeze_walk(args)
    assert json.dumps(fast, sort_keys=True) == json.dumps(general, sort_keys=True)
    assert list(fast) == list(general)


@settings(max_examples=200, deadline=None)
@given(value=st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=3),
                                                         st.dictionaries(st.text(max_size=4), c, max_size=3)),
                          max_leaves=10))
def test_canonical_json_is_json_dumps(value: Any) -> None:
    body = {"k": value, "a": 1}

    def reference() -> str:
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    try:
        expected = reference()
    except ValueError:
        with pytest.raises(ValueError):
            canonical_json(body)
        return
    assert canonical_json(body) == expected


def test_freeze_bounds_still_raise_from_the_flat_path() -> None:
    with pytest.raises(InputTooLarge):
        freeze_json({"k": "x" * (MAX_STRING + 1)})
    with pytest.raises(InputTooLarge):
        freeze_json({"x" * (MAX_STRING + 1): 1})
    assert freeze_json({"n": float("inf"), "b": b"x"}) == {"n": "inf", "b": "x"}


@pytest.mark.parametrize("extra", [
    {},
    {"agent_name": "Agent One", "owner": "team", "action_type": "shell", "trace_id": "t", "parent_agent_id": "p",
     "agent_type": "worker"},
    {"environment": "", "agent_name": "", "user_input": ""},
])
def test_plain_request_equals_validated_request(extra: dict[str, Any]) -> None:
    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    first = security.build_request(tool_name="read_file", tool_args={"p": "/x", "n": 2}, agent_id="agent-1",
                                   session_id="s", **extra)
    # built again: the agent and context come from the instance's cache, and must still be the same
    fast = security.build_request(tool_name="read_file", tool_args={"p": "/x", "n": 2}, agent_id="agent-1",
                                  session_id="s", **extra)
    assert fast.agent is first.agent and fast.context is first.context and fast.request_id != first.request_id
    agent = {"agent_id": "agent-1", "name": extra.get("agent_name") or "agent-1",
             "owner": extra.get("owner") or security.default_owner,
             "environment": extra.get("environment") or security.default_environment}
    if "agent_type" in extra:
        agent["agent_type"] = extra["agent_type"]
    context = {k: extra[k] for k in ("user_input", "trace_id", "parent_agent_id") if k in extra}
    context["session_id"] = "s"
    validated = ActionRequest.model_validate({
        "request_id": fast.request_id, "timestamp": fast.timestamp, "agent": agent,
        "action": {"type": extra.get("action_type") or "tool_call", "tool_name": "read_file",
                   "tool_args": {"p": "/x", "n": 2}},
        "context": context})
    for a, b in ((fast, validated), (fast.agent, validated.agent), (fast.action, validated.action),
                 (fast.context, validated.context)):
        _same(a, b)


def test_shared_request_parts_are_per_distinct_values_and_bounded() -> None:
    from agent_security.core import sdk

    security = AgentSecurity(policy_bundle=POLICY, autoload=False, default_environment="staging")
    a = security.build_request(tool_name="t", agent_id="a", session_id="s1")
    b = security.build_request(tool_name="t", agent_id="a", session_id="s2", environment="staging")
    c = security.build_request(tool_name="t", agent_id="a", session_id="s1", agent_name="Alice")
    assert a.agent is b.agent  # the default environment resolved first: the same agent
    assert a.context is not b.context and b.context.session_id == "s2"
    assert c.agent is not a.agent and c.agent.name == "Alice" and c.context is a.context
    long_input = "x" * (sdk._MAX_SHARED_INPUT + 1)
    d = security.build_request(tool_name="t", agent_id="a", user_input=long_input)
    e = security.build_request(tool_name="t", agent_id="a", user_input=long_input)
    assert d.context is not e.context and d.context == e.context  # not kept
    for i in range(3 * sdk._MAX_SHARED_PARTS):
        security.build_request(tool_name="t", agent_id=f"agent-{i}", session_id=f"s-{i}")
        assert len(security._agents) <= sdk._MAX_SHARED_PARTS
        assert len(security._contexts) <= sdk._MAX_SHARED_PARTS
    again = security.build_request(tool_name="t", agent_id="a", session_id="s1")
    assert again.agent == a.agent and again.context == a.context


def test_non_plain_fields_still_go_through_validation() -> None:
    from pydantic import ValidationError

    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    with pytest.raises(ValidationError):
        security.build_request(tool_name="read_file", agent_id="a", session_id=123)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        security.build_request(tool_name="read_file", agent_id="a", trust_level="root")
    request = security.build_request(tool_name="read_file", agent_id="a", roles=["r"], trust_level="basic")
    assert request.agent.roles == ("r",) and request.agent.trust_level == "basic"
    result = security.check_tool_call(tool_name="read_file", agent_id="a", environment=["prod"])
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)


def _reference_request_hash(request: ActionRequest) -> str:
    body = {"agent_id": request.agent.agent_id, "environment": request.agent.environment,
            "action_type": request.action.type, "tool_name": request.action.tool_name,
            "tool_args": request.action.tool_args, "session_id": request.context.session_id,
            "user_input": request.context.user_input}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_texts = st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb", "\x00\x1f\b\"\\", "é\u2028", "Z", "a"])
_arg_values = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=False), _texts, st.lists(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(args=st.dictionaries(_texts, _arg_values, max_size=5), text=_texts,
       session=st.none() | _texts, user_input=st.none() | _texts)
def test_request_hash_bytes_are_canonical_json(args: dict[str, Any], text: str, session: str | None,
                                               user_input: str | None) -> None:
    request = ActionRequest(agent=AgentInfo(agent_id=text or "a", environment=text),
                            action=Action(tool_name=text or "t", tool_args=args),
                            context=RequestContext(session_id=session, user_input=user_input))
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


def test_with_reason_shortcut_equals_model_method() -> None:
    from agent_security.core.sdk import _with_reason

    base = Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),), approver_role="ops")
    _same(_with_reason(base, "NO_RESOLVER", "none", outcome=Outcome.DENY),
          base.with_reason("NO_RESOLVER", "none", outcome=Outcome.DENY))
    _same(_with_reason(base, "APPROVED", "ok", outcome=Outcome.ALLOW),
          base.with_reason("APPROVED", "ok", outcome=Outcome.ALLOW))


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


def _values(**over: object) -> dict[str, object]:
    from datetime import UTC, datetime

    from agent_security.core.models import SCHEMA_VERSION, Outcome, Reason, new_id

    values: dict[str, object] = {
        "schema_version": SCHEMA_VERSION, "event_id": new_id(), "sequence": 0,
        "timestamp": datetime(2026, 11, 24, 9, 30, 0, 5, tzinfo=UTC), "kind": "decision", "request_id": new_id(),
        "agent_id": "agent-1", "tool_name": "read_file", "environment": "prod", "outcome": Outcome.ALLOW,
        "allowed": True, "reasons": (Reason(code="R1", message="ok"),), "plugin_source": None, "mode": "enforce",
        "request_hash": "ab" * 32, "data": {"phase": "decided", "z": [1, 2], "a": {"y": None, "b": True}},
        "prev_hash": None, "hash": None,
    }
    values.update(over)
    return values


def test_record_values_builds_the_same_chained_event_as_record() -> None:
    from agent_security.core.audit import AuditTrail, event_hash

    by_values: list[AuditEvent] = []
    by_event: list[AuditEvent] = []
    fast, slow = AuditTrail(by_values.append), AuditTrail(by_event.append)
    for n in range(3):
        values = _values(data={"phase": "decided", "n": n, "tuple": ("a", "b"), "nested": {"k": n}})
        reference = AuditEvent.model_validate(dict(values))
        a = fast.record_values(values, set(AuditEvent.model_fields))
        b = slow.record(reference)
        assert a.model_dump() == b.model_dump()
        assert a.hash == event_hash(a) and a.sequence == n + 1
    assert fast.head == slow.head
    assert [e.hash for e in by_values] == [e.hash for e in by_event]


def test_record_values_takes_the_reference_path_for_data_the_fast_writer_cannot_take() -> None:
    from datetime import datetime, timedelta, timezone

    from agent_security.core.audit import AuditTrail, event_hash

    trail = AuditTrail(lambda e: None)
    # A float in data and a non-UTC timestamp: both need the reference canonical form.
    local = datetime(2026, 11, 24, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    event = trail.record_values(_values(data={"score": 0.25}, timestamp=local), set(AuditEvent.model_fields))
    assert event.hash == event_hash(event) and event.sequence == 1
    assert event.timestamp == local and event.data == {"score": 0.25}


def test_record_values_refuses_after_close_and_advances_before_a_failing_dispatch() -> None:
    from agent_security.core.audit import AuditTrail

    calls: list[AuditEvent] = []

    def dispatch(event: AuditEvent) -> None:
        calls.append(event)
        raise OSError("sink down")

    trail = AuditTrail(dispatch)
    with pytest.raises(OSError, match="sink down"):
        trail.record_values(_values(), set(AuditEvent.model_fields))
    assert trail.head == (1, calls[0].hash)  # see "Failures" in the trail's documentation
    trail.close()
    with pytest.raises(RuntimeError, match="closed"):
        trail.record_values(_values(), set(AuditEvent.model_fields))
    assert len(calls) == 1


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
        "NOPE",)
    security.unregister_plugin("deny_all")
    assert security.check_tool_call(tool_name="read_file", agent_id="a", session_id="s").allowed


def test_check_context_init_takes_the_dataclass_fields_in_order_with_their_defaults() -> None:
    import dataclasses
    import inspect

    from agent_security.core.context import CheckContext

    params = list(inspect.signature(CheckContext).parameters.values())
    assert [p.name for p in params] == [f.name for f in dataclasses.fields(CheckContext)]
    a = CheckContext(None, None, None, 1.0)  # type: ignore[arg-type]
    b = CheckContext(None, None, None, 1.0)  # type: ignore[arg-type]
    assert (a.mode, a.request_hash, a.phase, a.annotations, a.alerts, a._alert_sink) == (
        "enforce", "", "", {}, [], None)
    assert a.annotations is not b.annotations and a.alerts is not b.alerts  # fresh containers per check


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


@pytest.mark.parametrize(("param", "field"), [
    ("agent_id", "agent_id"), ("agent_name", "name"), ("environment", "environment"), ("owner", "owner"),
    ("action_type", "type"), ("session_id", "session_id"), ("trace_id", "trace_id"),
    ("parent_agent_id", "parent_agent_id"), ("agent_type", "agent_type"),
])
def test_every_plain_field_is_bounded_and_named_when_too_long(param: str, field: str) -> None:
    from agent_security.core.sdk import MAX_ID_CHARS

    security = AgentSecurity(policy_bundle=POLICY, autoload=False)
    fields: dict[str, Any] = {"tool_name": "t", "agent_id": "a"}
    at_limit = security.build_request(**{**fields, param: "x" * MAX_ID_CHARS})
    assert at_limit.request_id
    with pytest.raises(InputTooLarge, match=f"^{field} is longer than {MAX_ID_CHARS} characters$"):
        security.build_request(**{**fields, param: "x" * (MAX_ID_CHARS + 1)})
