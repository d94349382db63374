"""The arguments a decision is made on are the arguments that run.

Tool arguments are copied (``freeze_json``) into exact built-in types before any plugin or the policy
sees them: a subclass cannot show the policy one thing and the tool another. ``protect()`` then runs the
function with that checked copy (where it can stand for the original), so changing the caller's objects
after the check changes nothing, and an argument a plugin removed stays removed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    SecurityError,
    hookimpl,
)
from agent_security.core.arguments import InvalidArguments, freeze_json, same_json
from agent_security.core.testing import StaticEngine


def _deny(code: str) -> Decision:
    return Decision(outcome=Outcome.DENY, reasons=(Reason(code=code, message=code),))


ALLOW = Decision(outcome=Outcome.ALLOW, reasons=(Reason(code="OK", message="ok"),))


def _guard(request: ActionRequest) -> Decision:
    """A policy written the obvious way: no destructive command, no payment over 100."""
    args = request.action.tool_args
    if "rm -rf" in str(args.get("cmd", "")).lower():
        return _deny("DESTRUCTIVE")
    amount = args.get("amount", 0)
    if isinstance(amount, int) and amount > 100:
        return _deny("TOO_MUCH")
    return ALLOW


def make(**kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=StaticEngine(_guard), autoload=False, **kw)


class LyingDict(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        return [("cmd", "ls")]


class LowerIsLs(str):
    __slots__ = ()

    def lower(self) -> str:
        return "ls"


class NeverGreater(int):
    def __gt__(self, other: object) -> bool:
        return False


class RandomHash(str):
    __slots__ = ()

    def __hash__(self) -> int:
        return random.getrandbits(60)

    def __eq__(self, other: object) -> bool:
        return False


def test_a_dict_subclass_shows_the_policy_what_it_holds() -> None:
    result = make().check_tool_call(tool_name="sh", agent_id="a", tool_args={"a": LyingDict(cmd="rm -rf /")})
    assert result.tool_args == {"a": {"cmd": "rm -rf /"}}
    top = make().check_tool_call(tool_name="sh", agent_id="a", tool_args=LyingDict(cmd="rm -rf /"))
    assert not top.allowed and top.final_decision.codes == ("DESTRUCTIVE",)


def test_scalar_subclasses_become_their_exact_type() -> None:
    security = make()
    cmd = security.check_tool_call(tool_name="sh", agent_id="a", tool_args={"cmd": LowerIsLs("RM -RF /")})
    assert not cmd.allowed and cmd.final_decision.codes == ("DESTRUCTIVE",)
    assert type(cmd.request.action.tool_args["cmd"]) is str
    pay = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"amount": NeverGreater(1_000_000)})
    assert not pay.allowed and pay.final_decision.codes == ("TOO_MUCH",)
    key = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={RandomHash("amount"): 5_000})
    assert not key.allowed and key.final_decision.codes == ("TOO_MUCH",)
    assert [type(k) for k in key.tool_args] == [str]


def test_the_copy_holds_only_exact_types() -> None:
    frozen = freeze_json(
        {
            "l": type("L", (list,), {"__iter__": lambda self: iter(["ls"])})(["rm -rf /"]),
            "t": (LowerIsLs("x"), 2.5),
            "b": bytearray(b"hi"),
            "m": memoryview(b"yo"),
        }
    )
    assert frozen == {"l": ["rm -rf /"], "t": ["x", 2.5], "b": "hi", "m": "yo"}
    assert type(frozen["t"][0]) is str


@pytest.mark.parametrize("value", [iter(["rm -rf /"]), (x for x in ["rm -rf /"]), map(str, ["rm -rf /"])])
def test_iterators_are_refused_not_shown_as_their_repr(value: Any) -> None:
    with pytest.raises(InvalidArguments, match="iterator"):
        freeze_json({"cmds": value})
    result = make().check_tool_call(tool_name="sh", agent_id="a", tool_args={"cmds": value})
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)
    ran: list[Any] = []
    with pytest.raises(SecurityError):
        make().protect("sh", lambda cmds: ran.append(list(cmds)), agent_id="a")(iter(["rm -rf /"]))
    assert ran == []


def test_protect_runs_with_the_checked_copy_not_the_callers_objects() -> None:
    body = {"to": "bob", "amount": 10}
    paid: list[dict[str, Any]] = []

    def after_allow(request: ActionRequest, decision: Decision) -> None:
        body.update(to="mallory", amount=99)  # the caller's dict changes once the decision is made

    security = make(on_allow=after_allow)
    pay = security.protect("pay", lambda body: paid.append(body), agent_id="a")
    pay(body)
    assert paid == [{"to": "bob", "amount": 10}]
    assert paid[0] is not body


def test_protect_passes_objects_the_copy_cannot_stand_for() -> None:
    got: list[Any] = []
    security = make()
    fn = security.protect("write", lambda path, data, pair: got.extend([path, data, pair]), agent_id="a")
    fn(Path("/tmp/x"), b"bytes", (1, 2))
    assert got == [Path("/tmp/x"), b"bytes", (1, 2)]
    assert type(got[0]) is not str and type(got[2]) is tuple


class DropArgument:
    name = "dlp"

    def __init__(self, key: str) -> None:
        self.key = key

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
        args = {k: v for k, v in request.action.tool_args.items() if k != self.key}
        return PluginResult(
            request=request.model_copy(update={"action": request.action.model_copy(update={"tool_args": args})})
        )


def test_an_argument_a_plugin_removed_does_not_come_back() -> None:
    sent: list[tuple[str, str | None]] = []
    security = make(plugins=[DropArgument("attachment")])

    def send(to: str, attachment: str | None = None) -> None:
        sent.append((to, attachment))

    security.protect("send_email", send, agent_id="a")("bob@example.com", attachment="payroll.csv")
    assert sent == [("bob@example.com", None)]
    required = make(plugins=[DropArgument("to")])
    with pytest.raises(SecurityError) as info:
        required.protect("send_email", send, agent_id="a")("bob@example.com")
    assert info.value.decision.codes == ("ARGS_REWRITE_UNSUPPORTED",)
    assert sent == [("bob@example.com", None)]


def test_same_json_accepts_only_what_the_copy_reproduces() -> None:
    plain = {"a": [1, 2.5, "x", None, True, {"b": []}]}
    assert same_json(plain, freeze_json(plain))
    for changed in (
        {"a": (1,)},
        {"a": b"x"},
        {"a": LowerIsLs("x")},
        {"a": float("nan")},
        {"a": Path("/")},
        {1: "x"},
        {"a": True, "b": 1},
    ):
        assert not same_json(changed, freeze_json(changed)) or changed == {"a": True, "b": 1}
    assert not same_json({"a": True}, {"a": 1}) and not same_json({"a": 1}, {"a": 1.0})
