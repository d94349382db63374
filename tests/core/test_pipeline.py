"""The check pipeline: phases, the six outcomes, approvals, observe mode, protect(), concurrency."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from agent_security.core import (
    ActionRequest,
    AgentSecurity,
    Approval,
    Decision,
    ExecutionResult,
    Outcome,
    PluginResult,
    Reason,
    SecurityError,
    hookimpl,
)
from agent_security.core.resolution import request_hash
from agent_security.core.testing import FakeClock, StaticEngine


def rule(outcome: Outcome, code: str = "RULE", approver: str | None = None) -> Decision:
    return Decision(outcome=outcome, reasons=(Reason(code=code, message=f"{code} matched"),), approver_role=approver)


def by_tool(table: dict[str, Decision], default: Decision | None = None) -> StaticEngine:
    fallback = default or rule(Outcome.ALLOW, "DEFAULT_ALLOW")
    return StaticEngine(lambda r: table.get(r.tool_name, fallback))


def make(engine: StaticEngine | None = None, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine or by_tool({}), autoload=False, **kw)


# -- the six outcomes and their callbacks ------------------------------------------------------------

GATES = [
    (Outcome.REQUIRE_APPROVAL, "on_approval_required", "APPROVED", "REJECTED"),
    (Outcome.STEP_UP, "on_step_up_required", "STEP_UP_PASSED", "STEP_UP_FAILED"),
    (Outcome.REQUIRE_HUMAN, "on_human_required", "HUMAN_APPROVED", "HUMAN_REJECTED"),
]


@pytest.mark.parametrize(("outcome", "callback", "ok_code", "no_code"), GATES)
@pytest.mark.parametrize("answer", [True, False])
def test_gated_outcomes_resolve_through_their_callback(
    outcome: Outcome, callback: str, ok_code: str, no_code: str, answer: bool
) -> None:
    seen: list[tuple[ActionRequest, Decision]] = []

    def cb(request: ActionRequest, decision: Decision) -> bool:
        seen.append((request, decision))
        return answer

    security = make(by_tool({"pay": rule(outcome, "GATE", "finance")}), **{callback: cb})
    result = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"amount": 5})
    assert result.allowed is answer
    assert result.decision.outcome is outcome and result.decision.approver_role == "finance"
    assert result.final_decision.outcome is (Outcome.ALLOW if answer else Outcome.DENY)
    assert result.final_decision.codes == ("GATE", ok_code if answer else no_code)
    assert [e.kind for e in result.events] == ["decision", "resolution"]
    assert seen[0][0].action.tool_args == {"amount": 5}


@pytest.mark.parametrize(
    ("ticket", "allowed", "code"),
    [
        ("OPS-42", True, "TICKET_VALIDATED"),
        ("", False, "TICKET_MISSING"),
        (None, False, None),
        (True, False, "APPROVAL_INVALID_ANSWER"),
    ],
)
def test_ticket_needs_a_real_ticket_id(ticket: Any, allowed: bool, code: str | None) -> None:
    security = make(by_tool({"deploy": rule(Outcome.REQUIRE_TICKET, "CHANGE")}), on_ticket_required=lambda r, d: ticket)
    result = security.check_tool_call(tool_name="deploy", agent_id="a")
    assert result.allowed is allowed
    if code is None:  # None is "no answer": nobody resolved it
        assert result.final_decision.codes[-1] == "NO_RESOLVER"
    else:
        assert result.final_decision.codes[-1] == code
    if allowed:
        assert "OPS-42" in result.final_decision.reasons[-1].message


def test_no_callback_means_deny_and_the_resolution_is_audited() -> None:
    denied: list[Decision] = []
    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_deny=lambda r, d: denied.append(d))
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert not result.allowed and result.final_decision.codes[-1] == "NO_RESOLVER"
    assert denied and denied[0].outcome is Outcome.DENY
    assert [e.outcome for e in result.events] == [Outcome.REQUIRE_APPROVAL, Outcome.DENY]


def test_truthy_junk_does_not_approve() -> None:
    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_approval_required=lambda r, d: "yes")
    assert not security.check_tool_call(tool_name="pay", agent_id="a").allowed


def test_approval_timeout_denies_and_does_not_block_other_checks() -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(request: ActionRequest, decision: Decision) -> bool:
        started.set()
        release.wait(5)
        return True

    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_approval_required=slow, approval_timeout_s=0.2)
    out: dict[str, Any] = {}
    t = threading.Thread(target=lambda: out.setdefault("r", security.check_tool_call(tool_name="pay", agent_id="a")))
    t.start()
    assert started.wait(5)
    # While the approval is pending, other checks go through.
    assert security.check_tool_call(tool_name="read", agent_id="b").allowed
    t.join(5)
    release.set()
    assert out["r"].allowed is False
    assert out["r"].final_decision.codes[-1] == "APPROVAL_TIMEOUT"


async def test_async_approval_timeout() -> None:
    async def never(request: ActionRequest, decision: Decision) -> bool:
        await asyncio.Event().wait()
        return True

    security = make(by_tool({"pay": rule(Outcome.STEP_UP)}), on_step_up_required=never, approval_timeout_s=0.05)
    other = asyncio.create_task(security.acheck_tool_call(tool_name="read", agent_id="b"))
    result = await security.acheck_tool_call(tool_name="pay", agent_id="a")
    assert (await other).allowed
    assert not result.allowed and result.final_decision.codes[-1] == "STEP_UP_ERROR"


async def test_async_callbacks_are_awaited() -> None:
    async def approve(request: ActionRequest, decision: Decision) -> bool:
        await asyncio.sleep(0)
        return True

    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_approval_required=approve)
    assert (await security.acheck_tool_call(tool_name="pay", agent_id="a")).allowed
    # and the synchronous entry point drives the same async callback to completion
    assert security.check_tool_call(tool_name="pay", agent_id="a").allowed


def test_approval_is_bound_to_the_exact_request() -> None:
    approved_hashes: list[str] = []

    def approve_only_first(request: ActionRequest, decision: Decision) -> Approval:
        if not approved_hashes:
            approved_hashes.append(request_hash(request))
        return Approval(approved=True, request_hash=approved_hashes[0], resolver="alice")

    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_approval_required=approve_only_first)
    first = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"amount": 10})
    assert first.allowed and first.request_hash == approved_hashes[0]
    swapped = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"amount": 10_000})
    assert not swapped.allowed and swapped.final_decision.codes[-1] == "APPROVAL_MISMATCH"


def test_protect_refuses_arguments_mutated_during_approval() -> None:
    payload = {"amount": 10}

    def approve_and_tamper(request: ActionRequest, decision: Decision) -> bool:
        payload["amount"] = 10_000  # another thread changes the object while the human approves
        return True

    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL)}), on_approval_required=approve_and_tamper)
    calls: list[Any] = []
    pay = security.protect("pay", lambda body: calls.append(dict(body)), agent_id="a")
    with pytest.raises(SecurityError) as info:
        pay(payload)
    assert info.value.codes == ("APPROVAL_MISMATCH",)
    assert calls == []


# -- plugin phases -------------------------------------------------------------------------------------


class Gate:
    name = "gate"

    def __init__(self, decision: Decision | None = None, request_update: dict[str, Any] | None = None) -> None:
        self.decision = decision
        self.request_update = request_update

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest) -> PluginResult | None:
        if self.request_update is not None:
            return PluginResult(request=request.model_copy(update=self.request_update))
        return PluginResult(decision=self.decision) if self.decision else None


def test_plugin_approval_goes_through_the_callback() -> None:
    security = make(
        plugins=[Gate(rule(Outcome.REQUIRE_APPROVAL, "COMMAND_APPROVAL_REQUIRED"))],
        on_approval_required=lambda r, d: True,
    )
    result = security.check_tool_call(tool_name="bash", agent_id="a")
    assert result.allowed
    assert result.decision.plugin_source == "gate"
    assert result.final_decision.codes == ("COMMAND_APPROVAL_REQUIRED", "APPROVED")


def test_plugin_allow_does_not_skip_policy() -> None:
    security = make(by_tool({"rm": rule(Outcome.DENY, "NO_RM")}), plugins=[Gate(rule(Outcome.ALLOW, "PLUGIN_OK"))])
    result = security.check_tool_call(tool_name="rm", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("NO_RM",)
    assert result.event.data["plugins"]["gate"] == {"ignored_allow": True}


def test_plugin_deny_short_circuits_and_calls_on_deny() -> None:
    evaluated: list[str] = []
    denied: list[Decision] = []
    engine = StaticEngine(lambda r: evaluated.append(r.tool_name) or rule(Outcome.ALLOW))  # type: ignore[func-returns-value]
    security = make(
        engine, plugins=[Gate(Decision.deny("AGENT_KILL_SWITCH", "killed"))], on_deny=lambda r, d: denied.append(d)
    )
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.decision.plugin_source == "gate"
    assert evaluated == [] and denied[0].codes == ("AGENT_KILL_SWITCH",)


def test_before_check_cannot_change_identity() -> None:
    from agent_security.core import AgentInfo

    security = make(plugins=[Gate(request_update={"agent": AgentInfo(agent_id="admin")})])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)


def test_identify_phase_replaces_claims_and_audits_the_mismatch() -> None:
    class Registry:
        name = "identity"

        @hookimpl
        def agent_security_identify(self, request: ActionRequest) -> PluginResult:
            agent = request.agent.model_copy(update={"trust_level": "basic", "roles": (), "verified": True})
            return PluginResult(request=request.model_copy(update={"agent": agent}))

    seen: list[ActionRequest] = []
    engine = StaticEngine(lambda r: seen.append(r) or rule(Outcome.ALLOW))  # type: ignore[func-returns-value]
    security = make(engine, plugins=[Registry()])
    result = security.check_tool_call(tool_name="t", agent_id="a", trust_level="system", roles=["admin"])
    assert seen[0].agent.trust_level == "basic" and seen[0].agent.verified
    changes = result.event.data["plugins"]["identity"]["changes"]
    assert changes["trust_level"] == {"claimed": "system", "registered": "basic", "by": "identity"}
    assert changes["roles"]["claimed"] == ["admin"]


@pytest.mark.parametrize(
    "update", [{"trust_level": "basic"}, {"environment": "prod"}, {"agent_id": "registered-a"}, {}]
)
def test_an_identity_replacement_binds_approvals_to_the_agent_it_leaves(update: dict[str, Any]) -> None:
    """The request hash follows what an identify plugin changed: the agent's id or environment give a new
    hash (an approval is bound to who acts, where), other fields keep it."""

    class Registry:
        name = "identity"

        @hookimpl
        def agent_security_identify(self, request: ActionRequest) -> PluginResult:
            return PluginResult(agent=request.agent.model_copy(update=update))

    def approve(request: ActionRequest, decision: Decision) -> Approval:
        return Approval(approved=True, request_hash=request_hash(request), resolver="alice")

    security = make(by_tool({}, rule(Outcome.REQUIRE_APPROVAL)), plugins=[Registry()], on_approval_required=approve)
    fields: dict[str, Any] = {"tool_name": "t", "agent_id": "a", "environment": "dev", "tool_args": {"x": 1}}
    result = security.check_tool_call(**fields)
    assert result.allowed and result.request_hash == request_hash(result.request)
    claimed = security.build_request(**fields)
    assert (result.request_hash == request_hash(claimed)) is not bool({"environment", "agent_id"} & update.keys())


def test_after_decision_may_tighten_but_not_relax() -> None:
    class Override:
        name = "override"

        def __init__(self, to: Decision, may_relax: bool = False) -> None:
            self.to = to
            self.may_relax = may_relax

        @hookimpl
        def agent_security_after_decision(self, decision: Decision) -> Decision:
            return self.to

    deny_engine = by_tool({}, rule(Outcome.DENY, "NO"))
    relaxing = make(deny_engine, plugins=[Override(Decision.allow("OVERRIDE"))])
    r = relaxing.check_tool_call(tool_name="t", agent_id="a")
    assert not r.allowed and r.event.data["plugins"]["override"] == {"refused_relaxation": "ALLOW"}
    trusted = make(deny_engine, plugins=[Override(Decision.allow("OVERRIDE"), may_relax=True)])
    assert trusted.check_tool_call(tool_name="t", agent_id="a").allowed
    tightening = make(plugins=[Override(rule(Outcome.REQUIRE_HUMAN, "HUMAN"))], on_human_required=lambda r, d: False)
    assert tightening.check_tool_call(tool_name="t", agent_id="a").final_decision.codes == ("HUMAN", "HUMAN_REJECTED")


def test_after_decision_cannot_hand_a_gate_to_another_approver() -> None:
    class Swap:
        name = "swap"

        def __init__(self, may_relax: bool = False) -> None:
            self.may_relax = may_relax

        @hookimpl
        def agent_security_after_decision(self, decision: Decision) -> Decision:
            return Decision(
                outcome=decision.outcome,
                reasons=(Reason(code="EASY", message="easy"),),
                approver_role="anyone",
                constraints={"max_amount": 10**9},
            )

    asked: list[str | None] = []
    gate = by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL, "PAY", "finance")})
    security = make(gate, plugins=[Swap()], on_approval_required=lambda r, d: asked.append(d.approver_role) or False)
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert result.decision.approver_role == "finance" and result.decision.codes == ("PAY",)
    assert asked == ["finance"]
    assert result.event.data["plugins"]["swap"] == {"refused_relaxation": "REQUIRE_APPROVAL"}
    trusted = make(gate, plugins=[Swap(may_relax=True)], on_approval_required=lambda r, d: False)
    assert trusted.check_tool_call(tool_name="pay", agent_id="a").decision.approver_role == "anyone"


def test_several_evaluators_combine_to_the_most_restrictive() -> None:
    class Second:
        name = "second"

        @hookimpl
        def agent_security_evaluate(self, request: ActionRequest) -> Decision:
            return rule(Outcome.STEP_UP, "SECOND")

    security = make(plugins=[Second()], on_step_up_required=lambda r, d: False)
    assert security.check_tool_call(tool_name="t", agent_id="a").decision.codes == ("SECOND",)


def test_redacted_arguments_reach_protect() -> None:
    class Redactor:
        name = "redactor"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
            args = {**request.action.tool_args, "body": "[REDACTED]"}
            return PluginResult(
                request=request.model_copy(update={"action": request.action.model_copy(update={"tool_args": args})})
            )

    security = make(plugins=[Redactor()])
    sent: list[tuple[str, str]] = []
    send = security.protect("send_email", lambda to, body: sent.append((to, body)), agent_id="a")
    send("x@example.com", "my password is hunter2")
    assert sent == [("x@example.com", "[REDACTED]")]


# -- observe mode ----------------------------------------------------------------------------------


def test_observe_mode_decides_and_audits_but_never_blocks() -> None:
    asked: list[str] = []
    security = make(
        by_tool({"rm": rule(Outcome.DENY, "NO_RM"), "pay": rule(Outcome.REQUIRE_APPROVAL)}),
        mode="observe",
        on_approval_required=lambda r, d: asked.append("x") or False,
    )
    rm = security.check_tool_call(tool_name="rm", agent_id="a")
    assert rm.allowed and rm.would_block and rm.final_decision.outcome is Outcome.DENY
    assert rm.event.mode == "observe" and rm.event.data["would_block"] is True
    pay = security.check_tool_call(tool_name="pay", agent_id="a")
    assert pay.allowed and pay.would_block and asked == []
    ok = security.check_tool_call(tool_name="ls", agent_id="a")
    assert ok.allowed and not ok.would_block
    ran: list[int] = []
    security.protect("rm", lambda: ran.append(1), agent_id="a")()
    assert ran == [1]


# -- protect ---------------------------------------------------------------------------------------


def test_protect_as_decorator_binds_parameter_names_and_raises_when_blocked() -> None:
    seen: list[dict[str, Any]] = []
    engine = StaticEngine(
        lambda r: (
            seen.append(dict(r.action.tool_args))
            or (  # type: ignore[func-returns-value]
                rule(Outcome.DENY, "TOO_MUCH") if r.action.tool_args.get("amount", 0) > 100 else rule(Outcome.ALLOW)
            )
        )
    )
    security = make(engine)

    @security.protect("pay", agent_id="payer", environment="prod")
    def pay(amount: int, currency: str = "USD") -> str:
        return f"paid {amount} {currency}"

    assert pay(5) == "paid 5 USD"
    assert seen[-1] == {"amount": 5}
    with pytest.raises(SecurityError) as info:
        pay(500, currency="EUR")
    assert info.value.codes == ("TOO_MUCH",)
    assert info.value.decision.outcome is Outcome.DENY


async def test_protect_async_function_and_after_execution_redaction() -> None:
    class Scrubber:
        name = "scrubber"

        @hookimpl
        def agent_security_after_execution(self, result: Any) -> ExecutionResult | None:
            if isinstance(result, dict) and "ssn" in result:
                return ExecutionResult(replace=True, result={**result, "ssn": "***-**-****"})
            return None

    security = make(plugins=[Scrubber()])

    @security.protect("lookup", agent_id="a")
    async def lookup(user: str) -> dict[str, str]:
        await asyncio.sleep(0)
        return {"name": user, "ssn": "123-45-6789"}

    assert await lookup("alice") == {"name": "alice", "ssn": "***-**-****"}
    assert security.get_audit_log()[-1].data["plugins"]["execution"] == {"redacted_by": ["scrubber"]}


def test_protect_runs_after_execution_on_errors_and_reraises() -> None:
    errors: list[str] = []

    class Watcher:
        name = "watcher"

        @hookimpl
        def agent_security_after_execution(self, error: BaseException | None) -> None:
            errors.append(type(error).__name__)

    security = make(plugins=[Watcher()])

    def fails() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        security.protect("t", fails, agent_id="a")()
    assert errors == ["KeyError"]


def _execution_events(security: AgentSecurity) -> list[Any]:
    return [e for e in security.get_audit_log() if e.kind == "execution"]


def test_an_exception_that_passes_is_audited_as_raised_not_ok() -> None:
    security = make()

    def fails() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        security.protect("t", fails, agent_id="a")()
    [event] = _execution_events(security)
    assert event.reasons[0].code == "EXECUTION_ERROR"
    assert event.data["plugins"]["execution"] == {"error": "KeyError"}


class _Replacer:
    name = "replacer"

    def __init__(self, replacement: Any) -> None:
        self.replacement = replacement

    @hookimpl
    def agent_security_after_execution(self, error: BaseException | None) -> ExecutionResult | None:
        return None if error is None else ExecutionResult(replace=True, result=self.replacement)


@pytest.mark.parametrize("is_async", [False, True])
def test_after_execution_can_replace_the_exception_a_tool_raised(is_async: bool) -> None:
    security = make(plugins=[_Replacer(ValueError("sanitised"))])

    def fails() -> None:
        raise RuntimeError("secret detail")

    async def afails() -> None:
        raise RuntimeError("secret detail")

    with pytest.raises(ValueError, match=r"^sanitised$") as info:
        if is_async:
            asyncio.run(security.protect("t", afails, agent_id="a")())
        else:
            security.protect("t", fails, agent_id="a")()
    assert info.value.__context__ is None and info.value.__cause__ is None  # the original is not reachable
    [event] = _execution_events(security)
    assert event.outcome is Outcome.ALLOW and event.reasons[0].code == "EXECUTION_ERROR"
    assert event.data["plugins"]["execution"] == {
        "redacted_by": ["replacer"],
        "error": "RuntimeError",
        "raised": "ValueError",
    }


def test_a_replacement_for_an_exception_must_be_an_exception() -> None:
    security = make(plugins=[_Replacer("not an exception")])

    def fails() -> None:
        raise RuntimeError("secret detail")

    with pytest.raises(SecurityError) as info:
        security.protect("t", fails, agent_id="a")()
    assert info.value.codes == ("PLUGIN_ERROR",)
    assert info.value.__context__ is None


@pytest.mark.parametrize("is_async", [False, True])
def test_a_withheld_exception_is_not_chained_to_the_security_error(is_async: bool) -> None:
    class Withhold:
        name = "withhold"

        @hookimpl
        def agent_security_after_execution(self, error: BaseException | None) -> ExecutionResult | None:
            return None if error is None else ExecutionResult(block=Decision.deny("WITHHELD", "no"))

    security = make(plugins=[Withhold()])

    def fails() -> None:
        raise RuntimeError("secret detail")

    async def afails() -> None:
        raise RuntimeError("secret detail")

    with pytest.raises(SecurityError) as info:
        if is_async:
            asyncio.run(security.protect("t", afails, agent_id="a")())
        else:
            security.protect("t", fails, agent_id="a")()
    assert info.value.codes == ("WITHHELD",)
    assert info.value.__context__ is None and info.value.__cause__ is None
    [event] = _execution_events(security)
    assert event.outcome is Outcome.DENY and event.data["plugins"]["execution"] == {"error": "RuntimeError"}


# -- input handling ----------------------------------------------------------------------------------


def test_arguments_are_copied_not_referenced() -> None:
    args: dict[str, Any] = {"q": ["a"]}
    security = make()
    result = security.check_tool_call(tool_name="t", agent_id="a", tool_args=args)
    args["q"].append("b")
    assert result.request.action.tool_args == {"q": ["a"]}


def test_hostile_arguments_are_denied_not_crashed() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    security = make()
    result = security.check_tool_call(tool_name="t", agent_id="a", tool_args=deep)
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)
    assert "nested deeper" in result.final_decision.reasons[0].message
    bad_trust = security.check_tool_call(tool_name="t", agent_id="a", trust_level="god")
    assert not bad_trust.allowed and bad_trust.final_decision.codes == ("INVALID_REQUEST",)


@pytest.mark.parametrize(
    "params",
    [
        {"tool_name": "", "agent_id": "a"},
        {"tool_name": "t", "agent_id": ""},
        {"tool_name": 5, "agent_id": "a"},
        {"tool_name": "t", "agent_id": "a", "tool_args": ["x"]},
        {"tool_name": "t", "agent_id": "a", "tool_args": "x"},
        {"tool_name": "t", "agent_id": "a", "user_input": 5},
        {"tool_name": "t", "agent_id": "a", "context": [1]},
        {"tool_name": "t", "agent_id": "a", "data_labels": 5},
        {"tool_name": "t", "agent_id": "a", "data_labels": "pii"},
        {"tool_name": "t", "agent_id": "a", "roles": {"admin": True}},
        {"tool_name": "t", "agent_id": "a", "session_id": 7},
    ],
)
def test_a_field_of_the_wrong_type_is_denied_as_an_invalid_request(params: dict[str, Any]) -> None:
    security = make()
    result = security.check_tool_call(**params)
    assert not result.allowed and result.final_decision.codes == ("INVALID_REQUEST",)
    assert result.event.kind == "decision" and result.event.sequence > 0  # audited


@pytest.mark.parametrize("answer", ["yes", 1, {"approved": True}, [True]])
def test_an_approver_answer_that_is_no_answer_has_its_own_reason_code(answer: Any) -> None:
    security = make(by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL, "GATE")}), on_approval_required=lambda r, d: answer)
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert not result.allowed
    assert result.final_decision.codes[-1] == "APPROVAL_INVALID_ANSWER"
    assert type(answer).__name__ in result.final_decision.reasons[-1].message


@pytest.mark.parametrize(
    ("option", "callback"),
    [
        ("on_approval_required", lambda: True),
        ("on_allow", lambda request: None),
        ("on_audit_event", lambda: None),
        ("on_error", lambda error: None),
        ("on_deny", "not callable"),
    ],
)
def test_a_callback_that_cannot_take_its_arguments_is_refused_at_construction(option: str, callback: Any) -> None:
    from agent_security.core import ConfigurationError

    with pytest.raises(ConfigurationError, match=option):
        make(**{option: callback})


def test_callbacks_taking_their_arguments_any_way_are_accepted() -> None:
    make(
        on_approval_required=lambda *args: True,
        on_allow=lambda request, decision=None: None,
        on_audit_event=lambda event, **extra: None,
        on_error=print,
    )


def test_a_keyword_the_api_does_not_have_is_a_programming_mistake() -> None:
    with pytest.raises(TypeError):
        make().check_tool_call(tool_name="t", agent_id="a", tool_nam="x")


# -- concurrency, audit chain, lifecycle -----------------------------------------------------------


def test_concurrent_checks_keep_a_consistent_hash_chain() -> None:
    security = make()
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        for j in range(50):
            assert security.check_tool_call(tool_name=f"t{j}", agent_id=f"a{i}").allowed

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log = security.get_audit_log()
    assert [e.sequence for e in log] == list(range(1, len(log) + 1))
    assert all(log[i].prev_hash == log[i - 1].hash for i in range(1, len(log)))
    assert len(log) == 1 + 8 * 50


def test_injected_clock_stamps_requests_and_events() -> None:
    clock = FakeClock()
    security = make(clock=clock.now, monotonic=clock.monotonic)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.request.timestamp == clock.now() and result.event.timestamp == clock.now()


def test_a_decision_is_stamped_with_the_instant_it_was_evaluated_at_and_later_events_read_the_clock() -> None:
    # The decision event carries the clock reading the check was evaluated at (the one its time conditions,
    # rate windows and TTLs saw); what is recorded after a wait (the resolution) reads the clock again.
    clock = FakeClock()
    ticks = iter(range(1, 1000))

    def now() -> Any:
        clock.advance(next(ticks))  # every reading is a new instant
        return clock.now()

    seen: list[Any] = []

    def approve(request: ActionRequest, decision: Decision) -> bool:
        seen.append(now())
        return True

    security = make(
        by_tool({"pay": rule(Outcome.REQUIRE_APPROVAL, "GATE", "lead")}),
        clock=now,
        monotonic=clock.monotonic,
        on_approval_required=approve,
    )
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    decision, resolution = result.events
    assert decision.kind == "decision" and resolution.kind == "resolution"
    assert decision.timestamp == result.request.timestamp
    assert resolution.timestamp > seen[0] > decision.timestamp
    plain = security.check_tool_call(tool_name="read", agent_id="a")
    assert plain.event.timestamp == plain.request.timestamp > resolution.timestamp


def test_shutdown_stops_checks_and_context_manager_shuts_down() -> None:
    from agent_security.core import ConfigurationError

    with make() as security:
        assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    assert security.get_audit_log()[-1].data["lifecycle"] == "shutdown"
    with pytest.raises(ConfigurationError):
        security.check_tool_call(tool_name="t", agent_id="a")


async def test_async_context_manager() -> None:
    async with make() as security:
        assert (await security.acheck_tool_call(tool_name="t", agent_id="a")).allowed
    assert security.get_audit_log()[-1].data["lifecycle"] == "shutdown"


def test_register_get_unregister_plugin() -> None:
    security = make()
    gate = Gate(Decision.deny("NOPE", "no"))
    assert security.register_plugin(gate) == "gate"
    assert security.get_plugin("gate") is gate
    assert not security.check_tool_call(tool_name="t", agent_id="a").allowed
    assert security.unregister_plugin("gate") is gate
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    from agent_security.core import PluginContractError

    with pytest.raises(PluginContractError):
        security.unregister_plugin("policy")


def test_audit_callback_receives_every_event_and_its_errors_do_not_block() -> None:
    events: list[str] = []

    def on_event(event: Any) -> None:
        events.append(event.kind)
        raise RuntimeError("callback broken")

    security = make(on_audit_event=on_event)
    assert security.check_tool_call(tool_name="t", agent_id="a").allowed
    assert events == ["lifecycle", "decision"]


def test_builtin_plugins_share_the_instance_store_from_registration() -> None:
    from agent_security.core import MemoryStore
    from agent_security.core.builtin import kill_switch

    store = MemoryStore()
    ks = kill_switch()
    make(store=store, plugins=[ks])
    ks.kill("rogue", "compromised")
    assert any("rogue" in key for key in store.scan(""))  # written to the shared store before any check
    other_ks = kill_switch(store=store)
    assert other_ks.is_killed("rogue")  # a second process's view of the same store sees it


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python >= 3.12 warns on fork with threads
def test_ids_differ_across_fork() -> None:
    import os

    from agent_security.core.models import new_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert child_id and child_id != new_id()


async def test_a_hanging_async_hook_times_out_and_denies() -> None:
    class Hangs:
        name = "hangs"

        @hookimpl
        async def agent_security_before_check(self, request: ActionRequest) -> None:
            await asyncio.Event().wait()

    security = make(plugins=[Hangs()], hook_timeout_s=0.05)
    result = await security.acheck_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_ERROR",)
    assert "TimeoutError" in result.final_decision.reasons[0].message
    sync_result = security.check_tool_call(tool_name="t", agent_id="a")
    assert not sync_result.allowed and sync_result.final_decision.codes == ("PLUGIN_ERROR",)
