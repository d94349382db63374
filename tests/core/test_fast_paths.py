"""The pipeline's shortcuts build exactly what the validating constructors build."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_security.core import AgentSecurity
from agent_security.core._fast import trusted, trusted_copy
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
    fast = security.build_request(tool_name="read_file", tool_args={"p": "/x", "n": 2}, agent_id="agent-1",
                                  session_id="s", **extra)
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


def test_ids_are_version_4_uuids() -> None:
    import uuid

    from agent_security.core.models import new_id

    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


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


def test_trail_refuses_an_owned_event_that_does_not_list_the_chained_fields() -> None:
    from agent_security.core.audit import AuditTrail

    out: list[AuditEvent] = []
    trail = AuditTrail(out.append)
    with pytest.raises(ValueError, match="owned"):
        trail.record(AuditEvent(kind="decision"), owned=True)
    assert out == [] and trail.head[0] == 0
