"""Security review of the core pipeline: one test per finding (see the review report on the branch).

Each test demonstrates a concrete problem found by an adversarial read of ``agent_security.core``; the
ones fixed alongside pass, the ones left open are ``xfail(strict=True)`` with the fix described.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

import pytest

from agent_security.core import (
    AgentSecurity,
    Decision,
    Outcome,
    PluginResult,
    Reason,
    Resolution,
    SecurityError,
    hookimpl,
)
from agent_security.core.arguments import MAX_ARGS_ITEMS, MAX_STRING, InputTooLarge, InvalidArguments, freeze_json
from agent_security.core.builtin.kill_switch import kill_switch
from agent_security.core.builtin.rate_limiter import rate_limiter
from agent_security.core.builtin.session_context import session_context
from agent_security.core.pipeline.request import MAX_ID_CHARS, MAX_LIST_ITEMS
from agent_security.core.store import MemoryStore
from agent_security.core.testing import StaticEngine


def _engine(decide: Any) -> StaticEngine:
    return StaticEngine(decide)


ALLOW = _engine(lambda r: Decision.allow("RULE_ALLOW", "allowed by rule"))
DENY = _engine(lambda r: Decision.deny("TOOL_FORBIDDEN", "the tool is forbidden"))


def _make(engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, **kw)


def _events_for(security: AgentSecurity, request_id: str) -> list[Any]:
    return [e for e in security.get_audit_log() if e.request_id == request_id]


# ------------------------------------------------------------------------------------------------
# F1 (high): an approval-like answer from a before_check/identify plugin skipped policy evaluation, so
# approving e.g. a DLP question allowed a tool that the policy denies outright.
# ------------------------------------------------------------------------------------------------


class _ApprovalGate:
    name = "dlp_gate"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
        return PluginResult(decision=Decision(outcome=Outcome.REQUIRE_APPROVAL,
                                              reasons=(Reason(code="PII_FOUND", message="PII in arguments"),)))


def test_plugin_approval_gate_does_not_skip_a_policy_deny() -> None:
    asked: list[str] = []
    security = _make(DENY, plugins=[_ApprovalGate()],
                     on_approval_required=lambda r, d: asked.append(r.tool_name) or True)
    result = security.check_tool_call(tool_name="drop_database", agent_id="a")
    assert result.allowed is False
    assert "TOOL_FORBIDDEN" in result.final_decision.codes
    assert asked == []  # nobody is asked to approve what the policy forbids anyway


def test_plugin_approval_gate_still_asks_when_policy_allows() -> None:
    asked: list[tuple[str, ...]] = []
    security = _make(ALLOW, plugins=[_ApprovalGate()],
                     on_approval_required=lambda r, d: asked.append(d.codes) or True)
    result = security.check_tool_call(tool_name="send_email", agent_id="a")
    assert result.decision.outcome is Outcome.REQUIRE_APPROVAL
    assert result.decision.plugin_source == "dlp_gate"
    assert asked and "PII_FOUND" in asked[0]
    assert result.allowed is True


def test_plugin_approval_gate_and_policy_gate_combine_to_the_stricter() -> None:
    human = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_HUMAN,
                                       reasons=(Reason(code="NEEDS_HUMAN", message="human review"),)))
    seen: list[tuple[str, ...]] = []
    security = _make(human, plugins=[_ApprovalGate()],
                     on_approval_required=lambda r, d: True,  # a lesser gate must not answer
                     on_human_required=lambda r, d: seen.append(d.codes) or False)
    result = security.check_tool_call(tool_name="wire", agent_id="a")
    assert result.decision.outcome is Outcome.REQUIRE_HUMAN
    assert seen and {"NEEDS_HUMAN", "PII_FOUND"} <= set(seen[0])  # the reviewer sees both reasons
    assert result.allowed is False


# ------------------------------------------------------------------------------------------------
# F2 (medium): async check hooks outside resolve/notify had no timeout; one hung plugin hung every
# check forever ("a timeout on any wait is a DENY" did not hold).
# ------------------------------------------------------------------------------------------------


class _HangingBeforeCheck:
    name = "hanger"

    @hookimpl
    async def agent_security_before_check(self, request: Any, ctx: Any) -> None:
        await asyncio.Event().wait()


class _HangingAfterExecution:
    name = "hanger"

    @hookimpl
    async def agent_security_after_execution(self, request: Any, decision: Any, result: Any, error: Any,
                                             ctx: Any) -> None:
        await asyncio.Event().wait()


def test_hanging_async_before_check_times_out_to_deny_sync() -> None:
    security = _make(plugins=[_HangingBeforeCheck()], hook_timeout_s=0.05)
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(
        security.check_tool_call(tool_name="t", agent_id="a")), daemon=True)
    worker.start()
    worker.join(10)  # a guard against the hang this test is about, not a timing assertion
    assert out, "the check never returned"
    assert out[0].allowed is False
    assert "PLUGIN_ERROR" in out[0].final_decision.codes


async def test_hanging_async_before_check_times_out_to_deny_async() -> None:
    security = _make(plugins=[_HangingBeforeCheck()], hook_timeout_s=0.05)
    result = await asyncio.wait_for(security.acheck_tool_call(tool_name="t", agent_id="a"), 10)
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


async def test_hanging_async_after_execution_times_out_and_withholds() -> None:
    security = _make(plugins=[_HangingAfterExecution()], hook_timeout_s=0.05)

    async def tool(x: int) -> int:
        return x

    guarded = security.protect("tool", tool, agent_id="a")
    with pytest.raises(SecurityError):
        await asyncio.wait_for(guarded(1), 10)


# ------------------------------------------------------------------------------------------------
# F3 (medium): a BaseException subclass (not KeyboardInterrupt/SystemExit) raised by a plugin escaped
# the pipeline: no DENY decision, no audit event for the call.
# ------------------------------------------------------------------------------------------------


class _Abort(BaseException):
    """Like gevent.Timeout or trio.Cancelled: a BaseException that is not a process exit."""


class _AbortingPlugin:
    name = "aborter"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> None:
        raise _Abort("boom")


class _AbortingSink:
    name = "bad_sink"
    fail_open = False

    def __init__(self) -> None:
        self.armed = False

    @hookimpl
    def agent_security_audit_event(self, event: Any) -> None:
        if self.armed:
            raise _Abort("disk gone")


def test_base_exception_in_plugin_is_deny_and_audited() -> None:
    security = _make(plugins=[_AbortingPlugin()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes
    assert _events_for(security, result.request.request_id)


async def test_base_exception_in_plugin_is_deny_async() -> None:
    security = _make(plugins=[_AbortingPlugin()])
    result = await security.acheck_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


def test_base_exception_in_approval_callback_is_deny() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))

    def callback(request: Any, decision: Any) -> bool:
        raise _Abort("approval service vanished")

    security = _make(gate, on_approval_required=callback)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert result.final_decision.outcome is Outcome.DENY


def test_base_exception_in_fail_closed_sink_is_audit_failure() -> None:
    sink = _AbortingSink()
    security = _make(audit_sinks=[sink])
    sink.armed = True
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "AUDIT_FAILURE" in result.final_decision.codes


def test_base_exception_from_on_error_does_not_break_the_check() -> None:
    def on_error(error: BaseException, where: str) -> None:
        raise _Abort("reporter down")

    security = _make(plugins=[_AbortingPlugin()], on_error=on_error)
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is False
    assert "PLUGIN_ERROR" in result.final_decision.codes


def test_keyboard_interrupt_still_propagates() -> None:
    class Interrupting:
        name = "ctrl_c"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            raise KeyboardInterrupt

    security = _make(plugins=[Interrupting()])
    with pytest.raises(KeyboardInterrupt):
        security.check_tool_call(tool_name="t", agent_id="a")


# ------------------------------------------------------------------------------------------------
# F4 (medium): freeze_json merged keys that stringify alike ({1: x, "1": y}), so the policy saw other
# arguments than the tool received; non-string keys skipped the size bounds; a huge int made the
# request hash raise (no decision, no audit); a big set was repr()-sorted before any bound applied.
# ------------------------------------------------------------------------------------------------


def test_colliding_keys_are_refused_not_merged() -> None:
    with pytest.raises(InvalidArguments):
        freeze_json({1: "rm -rf /", "1": "ls"})


def test_colliding_keys_cannot_smuggle_arguments_past_policy() -> None:
    security = _make(_engine(lambda r: Decision.deny("DANGEROUS", "dangerous command")
                             if "rm -rf" in str(r.action.tool_args) else Decision.allow("OK", "ok")))
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
# F5 (low): a plugin could attribute its decision to another plugin (plugin_source="kill_switch"),
# so the audit trail named the wrong component.
# ------------------------------------------------------------------------------------------------


def test_plugin_cannot_attribute_its_decision_to_another_plugin() -> None:
    class Impostor:
        name = "impostor"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
            return PluginResult(decision=Decision.deny("KILLED", "x", plugin_source="kill_switch"))

    security = _make(plugins=[Impostor()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.final_decision.plugin_source == "impostor"
    assert result.event.plugin_source == "impostor"


# ------------------------------------------------------------------------------------------------
# F6 (medium): per-tool limits (session context, rate limiter) compared raw tool names while policy
# compares normalised ones, so "Send_Email" or "send_email\u200b" matched the policy's send_email rule but
# escaped the per-tool limit.
# ------------------------------------------------------------------------------------------------


def test_session_limit_applies_to_normalised_tool_name() -> None:
    security = _make(plugins=[session_context({"send_email": 1})])
    first = security.check_tool_call(tool_name="send_email", agent_id="a", session_id="s")
    assert first.allowed is True
    for variant in ("Send_Email", "send_email\u200b", "\uff53\uff45\uff4e\uff44_email"):
        again = security.check_tool_call(tool_name=variant, agent_id="a", session_id="s")
        assert again.allowed is False, variant
        assert "SESSION_LIMIT_EXCEEDED" in again.final_decision.codes


def test_per_tool_rate_limit_applies_to_normalised_tool_name() -> None:
    security = _make(plugins=[rate_limiter(max_per_minute_per_tool=1)])
    assert security.check_tool_call(tool_name="send_email", agent_id="a").allowed is True
    again = security.check_tool_call(tool_name="SEND_EMAIL", agent_id="a")
    assert again.allowed is False
    assert "RATE_LIMIT_TOOL" in again.final_decision.codes


# ------------------------------------------------------------------------------------------------
# F7 (medium, open): a hash-bound Resolution is not single-use. request_hash deliberately excludes the
# request id, so an approval token cached by a resolver approves every identical later call.
# ------------------------------------------------------------------------------------------------


def test_hash_bound_approval_cannot_be_replayed() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))
    granted: dict[str, Resolution] = {}

    def resolver(request: Any, decision: Any) -> Resolution:
        # An approval service that answers by hash (e.g. a human approved this exact call once).
        from agent_security.core.resolution import request_hash

        h = request_hash(request)
        return granted.setdefault(h, Resolution(approved=True, request_hash=h, resolver="alice"))

    security = _make(gate, on_approval_required=resolver)
    first = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob", "amount": 100})
    second = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob", "amount": 100})
    assert first.allowed is True
    assert second.allowed is False
    assert second.final_decision.codes[-1] == "APPROVAL_REPLAYED"


def test_approval_bound_to_another_request_id_is_refused() -> None:
    gate = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))
    security = _make(gate, on_approval_required=lambda r, d: Resolution(approved=True, request_id="someone-else"))
    result = security.check_tool_call(tool_name="pay", agent_id="a")
    assert not result.allowed and result.final_decision.codes[-1] == "APPROVAL_MISMATCH"
    fresh = _make(gate, on_approval_required=lambda r, d: Resolution(approved=True, request_id=r.request_id))
    assert fresh.check_tool_call(tool_name="pay", agent_id="a").allowed


# ------------------------------------------------------------------------------------------------
# F8 (low): after shutdown() the instance still accepted plugins and policy reloads (their audit
# events went nowhere: the trail was closed and the failure was swallowed).
# ------------------------------------------------------------------------------------------------


def test_shutdown_instance_refuses_register_and_reload() -> None:
    from agent_security.core.errors import ConfigurationError

    class Late:
        name = "late"

    security = _make()
    security.shutdown()
    with pytest.raises(ConfigurationError):
        security.register_plugin(Late())
    with pytest.raises(ConfigurationError):
        security.reload_policy('{"version": "1"}')



# ------------------------------------------------------------------------------------------------
# F9 (low): plugin annotations that freeze_json refuses (too large, colliding keys) made building the
# audit event raise, so the check raised with no decision and no audit event.
# ------------------------------------------------------------------------------------------------


def test_unrecordable_plugin_annotations_do_not_cost_the_audit_event() -> None:
    class Noisy:
        name = "noisy"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> None:
            ctx.annotate("noisy", {"blob": "x" * (MAX_STRING + 1)})

    security = _make(plugins=[Noisy()])
    result = security.check_tool_call(tool_name="t", agent_id="a")
    assert result.allowed is True
    assert result.event.data["plugins"] == {"unrecordable": "InputTooLarge"}


# ------------------------------------------------------------------------------------------------
# F10 (high): MemoryStore evicted the least recently written keys when full, whatever they were. Session
# counters (one key per caller-chosen session and limited tool) pushed out the kill switch's keys, which
# are written once and never touched again: a killed agent, or a global kill, was silently lifted.
# ------------------------------------------------------------------------------------------------


def test_store_evicts_expirable_keys_before_durable_state() -> None:
    store = MemoryStore(max_keys=10)
    store.set("kill_switch:global", {"reason": "incident"})
    for i in range(50):
        store.set(f"session:{i}", 1, ttl_s=3600)
        store.incr(f"counter:{i}", ttl_s=3600)
    assert store.get("kill_switch:global") == {"reason": "incident"}
    assert len(store) <= 10


def test_store_stays_bounded_when_only_durable_keys_are_written() -> None:
    store = MemoryStore(max_keys=10)
    for i in range(50):
        store.set(f"k{i}", i)
    assert len(store) == 10
    assert store.get("k49") == 49


def test_many_sessions_cannot_evict_a_kill() -> None:
    store = MemoryStore(max_keys=50)
    ks = kill_switch()
    tools = [f"tool{i}" for i in range(5)]
    security = _make(store=store, plugins=[ks, session_context(dict.fromkeys(tools, 100))])
    ks.kill("rogue", "compromised")
    for session in range(20):
        for tool in tools:
            security.check_tool_call(tool_name=tool, agent_id="someone", session_id=f"s{session}")
    result = security.check_tool_call(tool_name="tool0", agent_id="rogue")
    assert result.allowed is False
    assert "AGENT_KILL_SWITCH" in result.final_decision.codes


# ------------------------------------------------------------------------------------------------
# F11 (medium): only tool_args were bounded. Session ids, agent ids, labels, roles, user input and
# the tool identity went into store keys, the audit trail and the policy engine at any size (a 50 MB
# session id, a million labels); an over-long tool name raised ValueError with no audit event.
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [
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
])
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
# F12 (low): protect() compared the arguments after an approval with the plugin-rewritten ones, so any
# approval-gated call whose arguments a plugin redacted or enriched was refused (APPROVAL_MISMATCH) even
# though nothing changed. A real change during the wait must still be refused.
# ------------------------------------------------------------------------------------------------


class _RedactBody:
    name = "redact_body"

    @hookimpl
    def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
        args = {**request.action.tool_args, "body": "[REDACTED]"}
        return PluginResult(request=request.model_copy(update={
            "action": request.action.model_copy(update={"tool_args": args})}))


GATE = _engine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL, reasons=(Reason(code="R", message="m"),)))


def test_approved_call_with_rewritten_arguments_runs_with_the_rewrite() -> None:
    security = _make(GATE, plugins=[_RedactBody()], on_approval_required=lambda r, d: True)

    def send(to: str, body: str) -> tuple[str, str]:
        return to, body

    assert security.protect("send", send, agent_id="a")("bob", "secret 1234") == ("bob", "[REDACTED]")


async def test_approved_call_with_rewritten_arguments_runs_with_the_rewrite_async() -> None:
    security = _make(GATE, plugins=[_RedactBody()], on_approval_required=lambda r, d: True)

    async def send(to: str, body: str) -> tuple[str, str]:
        return to, body

    assert await security.protect("send", send, agent_id="a")("bob", "secret 1234") == ("bob", "[REDACTED]")


def test_arguments_mutated_during_the_approval_are_refused() -> None:
    payload = {"to": "bob"}

    def approve(request: Any, decision: Any) -> bool:
        payload["to"] = "mallory"  # someone changes the call while the human looks at it
        return True

    security = _make(GATE, on_approval_required=approve)
    ran: list[Any] = []
    with pytest.raises(SecurityError) as info:
        security.protect("send", lambda p: ran.append(p), agent_id="a")(payload)
    assert ran == []
    assert "APPROVAL_MISMATCH" in info.value.decision.codes


# ------------------------------------------------------------------------------------------------
# F13 (low): two entry points with the same name from "the same distribution" (same metadata name seen
# twice on sys.path) were treated as one install seen twice: whichever target sorted first loaded, the
# other was skipped silently. A shadow copy with a different target won by choosing its module name.
# ------------------------------------------------------------------------------------------------


class _Ep:
    group = "agent_security"

    def __init__(self, name: str, dist: str, value: str, target: object) -> None:
        class _Dist:
            version = "1.0"

        self.name, self.value, self._target = name, value, target
        self.dist = _Dist()
        self.dist.name = dist  # type: ignore[attr-defined]

    def load(self) -> object:
        return self._target


def test_same_distribution_name_with_another_target_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core import PluginLoadError, plugins
    from agent_security.core.pipeline.hooks import new_plugin_manager

    class Genuine:
        pass

    class Shadow:
        pass

    eps = [_Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine),
           _Ep("egress", "agent-security-egress", "a_shadow.plugin", Shadow)]
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group=None: list(eps))
    with pytest.raises(PluginLoadError):
        plugins.load_entry_points(new_plugin_manager())


def test_same_install_seen_twice_is_still_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core import plugins
    from agent_security.core.pipeline.hooks import new_plugin_manager

    class Genuine:
        pass

    eps = [_Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine),
           _Ep("egress", "agent-security-egress", "agent_security.egress.plugin", Genuine)]
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group=None: list(eps))
    records = plugins.load_entry_points(new_plugin_manager())
    assert [r.status for r in records] == ["loaded", "disabled"]


# ------------------------------------------------------------------------------------------------
# F15 (low): a before_check replacement could change anything but the agent, the tool name and the
# request id: drop the caller's data labels (a policy's data_labels_any DENY no longer matched), turn a
# "shell" action into a "tool_call", swap the tool identity or the session (escaping session limits);
# an identify plugin could even rename the tool.
# ------------------------------------------------------------------------------------------------


def _rewriter(phase: str, **changes: Any) -> Any:
    def hook(self: Any, request: Any, ctx: Any) -> PluginResult:
        update: dict[str, Any] = {}
        if "context" in changes:
            update["context"] = request.context.model_copy(update=changes["context"])
        if "action" in changes:
            update["action"] = request.action.model_copy(update=changes["action"])
        return PluginResult(request=request.model_copy(update=update))

    hook.__name__ = f"agent_security_{phase}"
    return type("Rewriter", (), {"name": "rewriter", hook.__name__: hookimpl(hook)})()


@pytest.mark.parametrize(("phase", "changes"), [
    ("before_check", {"context": {"data_labels": ()}}),
    ("before_check", {"action": {"type": "tool_call"}}),
    ("before_check", {"context": {"session_id": "fresh"}}),
    ("before_check", {"action": {"tool_identity": None}}),
    ("identify", {"action": {"tool_name": "harmless"}}),
])
def test_plugins_cannot_rewrite_what_policy_and_limits_key_on(phase: str, changes: dict[str, Any]) -> None:
    security = _make(plugins=[_rewriter(phase, **changes)])
    result = security.check_tool_call(tool_name="run", agent_id="a", action_type="shell", data_labels=["PII"],
                                      session_id="s1", tool_identity={"tool_name": "run", "provider": "x"})
    assert result.allowed is False
    assert result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)


def test_plugins_may_still_add_labels_and_redact_arguments() -> None:
    class Enrich:
        name = "enrich"

        @hookimpl
        def agent_security_before_check(self, request: Any, ctx: Any) -> PluginResult:
            return PluginResult(request=request.model_copy(update={
                "context": request.context.model_copy(update={"data_labels": (*request.context.data_labels,
                                                                              "SECRET")}),
                "action": request.action.model_copy(update={"tool_args": {"q": "[REDACTED]"}})}))

    security = _make(plugins=[Enrich()])
    result = security.check_tool_call(tool_name="run", agent_id="a", data_labels=["PII"], tool_args={"q": "x"})
    assert result.allowed is True
    assert result.request.context.data_labels == ("PII", "SECRET")
    assert result.tool_args == {"q": "[REDACTED]"}


# ------------------------------------------------------------------------------------------------
# F17 (medium): the request handed to an approval callback carries the live tool_args dict. Changing it
# in place during the wait (after approving exactly what was shown) made protect() run the changed
# arguments, while the audit trail kept the hash of the approved ones.
# ------------------------------------------------------------------------------------------------


def _swap_after_approving(request: Any, decision: Any) -> Resolution:
    from agent_security.core.resolution import request_hash

    approved = request_hash(request)
    request.action.tool_args["to"] = "mallory"
    return Resolution(approved=True, request_hash=approved)


def test_arguments_swapped_in_place_during_approval_are_refused() -> None:
    security = _make(GATE, on_approval_required=_swap_after_approving)
    ran: list[Any] = []
    with pytest.raises(SecurityError) as info:
        security.protect("pay", lambda to, amount: ran.append((to, amount)), agent_id="a")("bob", 100)
    assert ran == []
    assert "APPROVAL_MISMATCH" in info.value.decision.codes


async def test_arguments_swapped_in_place_during_approval_are_refused_async() -> None:
    security = _make(GATE, on_approval_required=_swap_after_approving)
    result = await security.acheck_tool_call(tool_name="pay", agent_id="a", tool_args={"to": "bob"})
    assert result.allowed is False
    assert result.final_decision.codes[-1] == "APPROVAL_MISMATCH"
    assert result.events[-1].outcome is Outcome.DENY  # the resolution event records the refusal


# ------------------------------------------------------------------------------------------------
# F18 (low): the async driver ran blocking approval callbacks with asyncio.to_thread, i.e. on the event
# loop's default executor (min(32, CPUs + 4) threads). Callbacks that outlive their timeout (a pending
# human review) kept those threads, starving the application's own to_thread calls and asyncio's
# getaddrinfo. The sync driver already used a private pool; the async one now does too.
# ------------------------------------------------------------------------------------------------


async def test_async_approval_callbacks_do_not_use_the_default_executor() -> None:
    threads: list[str] = []

    def approve(request: Any, decision: Any) -> bool:
        threads.append(threading.current_thread().name)
        return True

    security = _make(GATE, on_approval_required=approve)
    result = await security.acheck_tool_call(tool_name="pay", agent_id="a")
    assert result.allowed is True
    assert threads and threads[0].startswith("agent-security")


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


# ------------------------------------------------------------------------------------------------
# F20 (low): two plugins declaring the same config section were not an error: the last one's model
# silently replaced the first's, so the first plugin received a settings object of another plugin's
# model (and an allow-listed extension could re-declare "egress" with a permissive model).
# ------------------------------------------------------------------------------------------------


def _info_module(name: str, section: str, model: Any) -> Any:
    from agent_security.core import PluginInfo

    class Module:
        @staticmethod
        @hookimpl
        def agent_security_plugin_info() -> Any:
            return PluginInfo(name=name, description=name, config_section=section, config_model=model)

    return Module


def test_two_plugins_claiming_one_config_section_stop_startup(fake_entry_points: Any) -> None:
    from agent_security.core import ConfigurationError, SectionModel

    class Strict(SectionModel):
        enabled: bool = True

    class Lax(SectionModel):
        enabled: bool = False

    fake_entry_points(("guard", "agent-security-egress", _info_module("guard", "guard", Strict)),
                      ("other", "agent-security-guardian", _info_module("other", "guard", Lax)))
    with pytest.raises(ConfigurationError, match="guard"):
        AgentSecurity(policy_engine=ALLOW, config={"guard": {"enabled": True}})
