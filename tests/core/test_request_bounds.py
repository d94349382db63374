"""Bounds on what a request may carry (argument keys, sizes, huge numbers, sets, identity and context
fields, pre-built requests): past them a call is an audited DENY, never a crash.

From the security review of the core pipeline: the banner above each group names the finding.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
    SecurityError,
)
from agent_security.core.arguments import MAX_ARGS_ITEMS, MAX_STRING, InputTooLarge, InvalidArguments, freeze_json
from agent_security.core.pipeline.request import MAX_ID_CHARS, MAX_LIST_ITEMS
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


def _events_for(security: AgentSecurity, request_id: str) -> list[Any]:
    return [e for e in security.get_audit_log() if e.request_id == request_id]


# ------------------------------------------------------------------------------------------------
# F4 (medium): freeze_json merged keys that stringify alike ({1: x, "1": y}), so the policy saw other
# arguments than the tool received; non-string keys skipped the size bounds; a huge int made the
# request hash raise (no decision, no audit); a big set was repr()-sorted before any bound applied.
# ------------------------------------------------------------------------------------------------


def test_colliding_keys_are_refused_not_merged() -> None:
    with pytest.raises(InvalidArguments):
        freeze_json({1: "rm -rf /", "1": "ls"})


def test_colliding_keys_cannot_smuggle_arguments_past_policy() -> None:
    security = _make(
        _engine(
            lambda r: (
                Decision.deny("DANGEROUS", "dangerous command")
                if "rm -rf" in str(r.action.tool_args)
                else Decision.allow("OK", "ok")
            )
        )
    )
    ran: list[Any] = []

    def shell(payload: dict[Any, str]) -> None:
        ran.append(payload)

    guarded = security.protect("shell", shell, agent_id="a")
    with pytest.raises(SecurityError) as info:
        guarded({1: "rm -rf /", "1": "ls"})
    assert ran == []
    assert "INVALID_REQUEST" in info.value.decision.codes


def test_non_string_keys_are_bounded_like_strings() -> None:
    with pytest.raises(InputTooLarge):
        freeze_json({b"k" * (MAX_STRING + 1): 1})


def test_huge_integer_argument_is_an_audited_deny() -> None:
    security = _make()
    result = security.check_tool_call(tool_name="t", agent_id="a", tool_args={"n": 10**5000})
    assert result.allowed is False
    assert "INVALID_REQUEST" in result.final_decision.codes
    assert _events_for(security, result.request.request_id)


def test_oversized_set_is_refused_before_sorting() -> None:
    calls = 0

    class Counted:
        def __repr__(self) -> str:
            nonlocal calls
            calls += 1
            return "c"

        __str__ = __repr__

    with pytest.raises(InputTooLarge):
        freeze_json({"s": {Counted() for _ in range(MAX_ARGS_ITEMS + 1)}})
    assert calls == 0


def test_set_order_is_still_deterministic() -> None:
    assert freeze_json({"s": {"b", "a", "c"}}) == {"s": ["a", "b", "c"]}
    assert freeze_json(frozenset({(2, "x"), (1, "y")})) == [[1, "y"], [2, "x"]]


# ------------------------------------------------------------------------------------------------
# F11 (medium): only tool_args were bounded. Session ids, agent ids, labels, roles, user input and
# the tool identity went into store keys, the audit trail and the policy engine at any size (a 50 MB
# session id, a million labels); an over-long tool name raised ValueError with no audit event.
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        {"session_id": "s" * (MAX_ID_CHARS + 1)},
        {"environment": "e" * (MAX_ID_CHARS + 1)},
        {"owner": "o" * (MAX_ID_CHARS + 1)},
        {"trace_id": "t" * (MAX_ID_CHARS + 1)},
        {"data_labels": [f"l{i}" for i in range(MAX_LIST_ITEMS + 1)]},
        {"roles": ["r" * (MAX_ID_CHARS + 1)]},
        {"delegation_chain": iter(range(10**9))},
        {"capabilities": ("c" for _ in itertools.count())},
        {"user_input": "u" * (MAX_STRING + 1)},
        {"tool_identity": {"tool_name": "t", "permissions_required": ["p" * (MAX_STRING + 1)]}},
    ],
)
def test_oversized_request_fields_are_an_audited_deny(field: dict[str, Any]) -> None:
    security = _make()
    result = security.check_tool_call(tool_name="t", agent_id="a", **field)
    assert result.allowed is False
    assert result.final_decision.codes == ("INVALID_REQUEST",)
    assert _events_for(security, result.request.request_id)


def test_over_long_tool_name_is_an_audited_deny_with_bounded_audit_fields() -> None:
    security = _make()
    result = security.check_tool_call(tool_name="t" * 5000, agent_id="a", environment="e" * 100_000)
    assert result.allowed is False
    assert result.final_decision.codes == ("INVALID_REQUEST",)
    event = _events_for(security, result.request.request_id)[0]
    assert len(event.tool_name or "") <= 256
    assert len(event.environment or "") <= MAX_ID_CHARS


# ------------------------------------------------------------------------------------------------
# F19 (low): check_request() takes a pre-built ActionRequest whose arguments never went through
# freeze_json; arguments that cannot be hashed (a huge int, very deep nesting) made the check raise
# with no decision and no audit event.
# ------------------------------------------------------------------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return root


@pytest.mark.parametrize("args", [{"n": 10**5000}, _deep(5000)])
def test_unhashable_prebuilt_request_is_an_audited_deny(args: dict[str, Any]) -> None:
    from agent_security.core.testing import make_request

    security = _make()
    result = security.check_request(make_request("t", args))
    assert result.allowed is False
    assert result.final_decision.codes == ("INVALID_REQUEST",)
    assert _events_for(security, result.request.request_id)


def test_an_argument_whose_str_raises_is_an_invalid_request() -> None:
    class Exploding:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    security = _make()
    result = security.check_tool_call(tool_name="t", agent_id="a", tool_args={"x": Exploding()})
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)
    assert "RuntimeError" in result.final_decision.reasons[0].message
