"""Every hook of the contract, tested by what a plugin implementing it sees and can do (one
``test_hook_<name>`` per hook: ``test_every_hook_has_a_test`` fails when a hook is added without one),
and the calling order the hookspec module states."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner

from agent_security.core import (
    ActionRequest,
    AgentInfo,
    AgentSecurity,
    AuditEvent,
    CheckContext,
    Decision,
    ExecutionResult,
    Host,
    Outcome,
    PluginInfo,
    PluginResult,
    Resolution,
    ToolIdentity,
    hookimpl,
    hookspecs,
)
from agent_security.core.testing import StaticEngine

ALLOW = StaticEngine(lambda r: Decision.allow("OK"))


def make(*plugins: Any, engine: StaticEngine = ALLOW, **kw: Any) -> AgentSecurity:
    return AgentSecurity(policy_engine=engine, autoload=False, plugins=list(plugins), **kw)


def test_every_hook_has_a_test() -> None:
    tested = {name.removeprefix("test_hook_") for name in globals() if name.startswith("test_hook_")}
    missing = [name for name in hookspecs.hook_names() if name.removeprefix("agent_security_") not in tested]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


# -- distribution hooks ----------------------------------------------------------------------------


class _Distribution:
    """A distribution's entry-point module, as an object: it adds a hook, describes itself, configures a
    stateful plugin through the host, adds a command and releases it on shutdown."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    @hookimpl
    def agent_security_addhooks(self, pluginmanager: Any) -> None:
        pluginmanager.add_hookspecs(sys.modules[__name__]._Extension)  # type: ignore[attr-defined]
        self.seen["addhooks"] = True

    @hookimpl
    def agent_security_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="dist", description="a test distribution")

    @hookimpl
    def agent_security_configure(self, host: Host, settings: Any) -> None:
        self.seen["configure"] = host
        host.register_plugin(_Counter(), name="dist-counter")

    @hookimpl
    def agent_security_cli(self, cli: click.Group) -> None:
        @click.command("dist-hello")
        def hello() -> None:
            click.echo("hello from dist")

        cli.add_command(hello)

    @hookimpl
    def agent_security_shutdown(self, host: Host) -> None:
        self.seen["shutdown"] = host


class _Extension:
    @staticmethod
    @hookspecs.hookspec
    def agent_security_test_extension(value: int) -> int:  # type: ignore[empty-body]
        """A hook a distribution adds."""


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> None:
        self.calls += 1

    @hookimpl
    def agent_security_test_extension(self, value: int) -> int:
        return value * 2


def _with_distribution(monkeypatch: pytest.MonkeyPatch, dist: _Distribution) -> None:
    from agent_security.core.pipeline import hooks

    real = hooks.HookRelay.__init__

    def init(self: Any, pm: Any = None) -> None:
        real(self, pm)
        self.pm.register(dist, name="dist")

    monkeypatch.setattr(hooks.HookRelay, "__init__", init)


def test_hook_addhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = _Distribution()
    _with_distribution(monkeypatch, dist)
    security = make()
    assert dist.seen["addhooks"]
    assert security.host.call_extension_hook("agent_security_test_extension", value=21) == [42]
    assert security.host.call_extension_hook("agent_security_no_such_hook") == []
    with pytest.raises(Exception, match="core hook"):
        security.host.call_extension_hook("agent_security_evaluate", request=None, ctx=None)


def test_hook_plugin_info(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_distribution(monkeypatch, _Distribution())
    assert any(i.name == "dist" and i.description == "a test distribution" for i in make().plugin_infos)


def test_hook_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = _Distribution()
    _with_distribution(monkeypatch, dist)
    security = make()
    host = dist.seen["configure"]
    assert isinstance(host, Host) and host is security.host
    assert not hasattr(host, "check_tool_call") and not hasattr(host, "_engine")  # the narrow protocol only
    assert host.store is security.store and host.clock is security.clock and host.mode == "enforce"
    security.check_tool_call(tool_name="t", agent_id="a")
    assert security.get_plugin("dist-counter").calls == 1


def test_hook_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_security.core import cli as cli_module

    _with_distribution(monkeypatch, _Distribution())
    result = CliRunner().invoke(cli_module.build_cli(), ["dist-hello"])
    assert result.exit_code == 0 and "hello from dist" in result.output


def test_hook_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = _Distribution()
    _with_distribution(monkeypatch, dist)
    security = make()
    security.shutdown()
    assert dist.seen["shutdown"] is security.host


# -- check hooks -------------------------------------------------------------------------------------


class _Identity:
    """A registry: replaces the claimed agent, tool identity and delegation chain with registered ones."""

    name = "registry"

    @hookimpl
    def agent_security_identify(self, request: ActionRequest, ctx: CheckContext) -> PluginResult:
        agent = request.agent.model_copy(update={"trust_level": "basic", "roles": (), "verified": True})
        action = request.action.model_copy(
            update={"tool_identity": ToolIdentity(tool_name=request.tool_name, provider="acme", verified=True)}
        )
        context = request.context.model_copy(update={"delegation_chain": ("root-agent",)})
        return PluginResult(request=request.model_copy(update={"agent": agent, "action": action, "context": context}))


def test_hook_identify() -> None:
    seen: list[ActionRequest] = []
    security = make(_Identity(), engine=StaticEngine(lambda r: seen.append(r) or Decision.allow("OK")))
    result = security.check_tool_call(
        tool_name="pay",
        agent_id="a",
        trust_level="system",
        roles=["admin"],
        tool_identity={"tool_name": "pay", "provider": "evil"},
        delegation_chain=["someone-else"],
    )
    assert result.allowed
    decided = seen[0]
    assert decided.agent.trust_level == "basic" and decided.agent.roles == () and decided.agent.verified
    assert decided.action.tool_identity is not None and decided.action.tool_identity.provider == "acme"
    assert decided.context.delegation_chain == ("root-agent",)
    changes = result.event.data["plugins"]["identity"]["changes"]
    assert changes["trust_level"] == {"claimed": "system", "registered": "basic", "by": "registry"}
    assert changes["tool_identity"]["claimed"]["provider"] == "evil"
    assert changes["delegation_chain"] == {"claimed": ["someone-else"], "registered": ["root-agent"], "by": "registry"}


class _IdentityParts:
    """A registry naming only the parts it replaces: one result, computed once, for every check."""

    name = "registry"

    def __init__(self) -> None:
        self.result = PluginResult(
            agent=AgentInfo(agent_id="a", trust_level="basic", verified=True),
            tool_identity=ToolIdentity(tool_name="pay", provider="acme", verified=True),
            delegation_chain=("root-agent",),
            annotations={"registered": True},
        )

    @hookimpl
    def agent_security_identify(self, request: ActionRequest, ctx: CheckContext) -> PluginResult:
        return self.result


def test_hook_identify_naming_only_the_replaced_parts() -> None:
    seen: list[ActionRequest] = []
    security = make(_IdentityParts(), engine=StaticEngine(lambda r: seen.append(r) or Decision.allow("OK")))
    claims = {"trust_level": "system", "roles": ["admin"], "tool_identity": {"tool_name": "pay", "provider": "evil"}}
    first = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"n": 1}, **claims)
    second = security.check_tool_call(tool_name="pay", agent_id="a", tool_args={"n": 2}, delegation_chain=["x"])
    assert first.allowed and second.allowed
    for decided, n in zip(seen, (1, 2), strict=True):
        assert decided.agent.trust_level == "basic" and decided.agent.roles == () and decided.agent.verified
        assert decided.action.tool_identity is not None and decided.action.tool_identity.provider == "acme"
        assert decided.context.delegation_chain == ("root-agent",)
        assert dict(decided.action.tool_args) == {"n": n}  # the rest is the request's own
    assert seen[0].request_id != seen[1].request_id
    changes = first.event.data["plugins"]["identity"]["changes"]
    assert changes["trust_level"] == {"claimed": "system", "registered": "basic", "by": "registry"}
    assert changes["tool_identity"]["claimed"]["provider"] == "evil"
    assert second.event.data["plugins"]["identity"]["changes"]["delegation_chain"]["claimed"] == ["x"]
    assert first.event.data["plugins"]["registry"] == {"registered": True}


def test_identity_parts_are_refused_outside_identify_and_beside_a_request() -> None:
    parts = PluginResult(agent=AgentInfo(agent_id="a", trust_level="system", verified=True))

    class Sneaky:
        name = "sneaky"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
            return parts

    class Both:
        name = "both"

        @hookimpl
        def agent_security_identify(self, request: ActionRequest) -> PluginResult:
            return PluginResult(request=request, agent=parts.agent)

    for plugin, why in ((Sneaky(), "outside the identify phase"), (Both(), "both a request")):
        result = make(plugin).check_tool_call(tool_name="t", agent_id="a")
        assert not result.allowed
        assert result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)
        assert why in result.final_decision.reasons[0].message


def test_only_identify_may_replace_who_is_acting() -> None:
    class Sneaky:
        name = "sneaky"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest) -> PluginResult:
            return _Identity().agent_security_identify(request, None)  # type: ignore[arg-type]

    result = make(Sneaky()).check_tool_call(tool_name="t", agent_id="a")
    assert not result.allowed and result.final_decision.codes == ("PLUGIN_CONTRACT_VIOLATION",)
    assert "outside the identify phase" in result.final_decision.reasons[0].message


def test_hook_before_check() -> None:
    class Labeller:
        name = "labeller"

        @hookimpl
        def agent_security_before_check(self, request: ActionRequest, ctx: CheckContext) -> PluginResult:
            ctx.annotate(self.name, {"saw": request.tool_name})
            if request.tool_name == "drop":
                return PluginResult(decision=Decision.deny("NO_DROP", "never"))
            context = request.context.model_copy(update={"data_labels": ("pii",)})
            return PluginResult(request=request.model_copy(update={"context": context}))

    security = make(Labeller())
    ok = security.check_tool_call(tool_name="read", agent_id="a")
    assert ok.allowed and ok.request.context.data_labels == ("pii",)
    assert ok.event.data["plugins"]["labeller"] == {"saw": "read"}
    denied = security.check_tool_call(tool_name="drop", agent_id="a")
    assert denied.final_decision.codes == ("NO_DROP",) and denied.final_decision.plugin_source == "labeller"


def test_hook_evaluate() -> None:
    class Second:
        name = "second"

        @hookimpl
        def agent_security_evaluate(self, request: ActionRequest) -> Decision | None:
            return Decision.deny("SECOND", "no") if request.tool_name == "x" else None

    security = make(Second())
    assert security.check_tool_call(tool_name="y", agent_id="a").allowed
    denied = security.check_tool_call(tool_name="x", agent_id="a")
    assert denied.final_decision.codes == ("SECOND",)  # the most restrictive vote wins


def test_hook_after_decision() -> None:
    class Tighten:
        name = "tighten"

        @hookimpl
        def agent_security_after_decision(self, decision: Decision) -> Decision:
            return decision.model_copy(update={"outcome": Outcome.REQUIRE_APPROVAL})

    class Loosen:
        name = "loosen"

        @hookimpl
        def agent_security_after_decision(self, decision: Decision) -> Decision:
            return Decision.allow("LOOSE")

    result = make(Tighten(), Loosen(), on_approval_required=lambda r, d: False).check_tool_call(
        tool_name="t", agent_id="a"
    )
    assert result.decision.outcome is Outcome.REQUIRE_APPROVAL and not result.allowed
    assert result.event.data["plugins"]["loosen"] == {"refused_relaxation": "ALLOW"}


def test_hook_resolve() -> None:
    class Approver:
        name = "approver"

        @hookimpl
        def agent_security_resolve(self, request: ActionRequest, decision: Decision, ctx: CheckContext) -> Any:
            return Resolution(approved=True, resolver="bot", request_hash=ctx.request_hash)

    gate = StaticEngine(lambda r: Decision(outcome=Outcome.REQUIRE_APPROVAL))
    result = make(Approver(), engine=gate, on_approval_required=lambda r, d: False).check_tool_call(
        tool_name="t", agent_id="a"
    )
    assert result.allowed and result.final_decision.codes[-1] == "APPROVED"  # answered before the callback
    assert result.events[-1].data["plugins"]["resolution"]["by"] == "bot"


def test_hook_notify() -> None:
    seen: list[str] = []

    class Listener:
        name = "listener"

        @hookimpl
        async def agent_security_notify(self, decision: Decision) -> None:
            seen.append(decision.outcome.value)

    security = make(Listener())
    security.check_tool_call(tool_name="t", agent_id="a")
    asyncio.run(security.acheck_tool_call(tool_name="t", agent_id="a"))
    assert seen == ["ALLOW", "ALLOW"]


def test_hook_after_execution() -> None:
    class Redactor:
        name = "redactor"

        @hookimpl
        def agent_security_after_execution(self, result: Any, error: BaseException | None) -> ExecutionResult | None:
            if error is not None:
                return ExecutionResult(replace=True, result=RuntimeError("sanitised"))
            if result == "secret":
                return ExecutionResult(block=Decision.deny("WITHHELD", "no"))
            return ExecutionResult(replace=True, result=str(result).replace("token", "[redacted]"))

    security = make(Redactor())
    check = security.check_tool_call(tool_name="t", agent_id="a")
    redacted = security.check_result("my token", check=check)
    assert redacted.allowed and redacted.result == "my [redacted]" and redacted.redacted_by == ("redactor",)
    assert redacted.event.kind == "execution" and redacted.event.request_id == check.request.request_id
    withheld = security.check_result("secret", tool_name="t", agent_id="a")  # decided in another process
    assert not withheld.allowed and withheld.result is None and withheld.decision.codes == ("WITHHELD",)
    raised = asyncio.run(security.acheck_result(check=check, error=ValueError("token=abc")))
    assert isinstance(raised.error, RuntimeError) and str(raised.error) == "sanitised"


def test_hook_audit_event() -> None:
    class Guardian:
        """Writes an incident from inside its subscription, as a guardian would."""

        name = "guardian-like"
        host: Host

        def __init__(self) -> None:
            self.kinds: list[str] = []

        def bind_host(self, host: Host) -> None:
            self.host = host

        @hookimpl
        def agent_security_audit_event(self, event: AuditEvent) -> None:
            self.kinds.append(event.kind)
            if event.kind == "decision" and event.outcome is Outcome.DENY:
                self.host.record_event("guardian.incident", {"evidence": [event.event_id]}, agent_id=event.agent_id)

    guardian = Guardian()
    security = make(guardian, engine=StaticEngine(lambda r: Decision.deny("NO", "no")))
    security.check_tool_call(tool_name="t", agent_id="a")
    assert guardian.kinds[-2:] == ["decision", "guardian.incident"]
    log = security.get_audit_log()
    incident = log[-1]
    assert incident.kind == "guardian.incident" and incident.agent_id == "a"
    assert incident.data == {"evidence": [log[-2].event_id]} and incident.prev_hash == log[-2].hash
    assert [e.sequence for e in log] == list(range(log[0].sequence, log[0].sequence + len(log)))


# -- calling order ----------------------------------------------------------------------------------


def test_the_calling_order_is_tryfirst_priority_then_registration() -> None:
    order: list[str] = []

    def plugin(name: str, priority: int | None = None, **marks: bool) -> Any:
        class P:
            @hookimpl(**marks)
            def agent_security_before_check(self) -> None:
                order.append(name)

        p = P()
        p.name = name  # type: ignore[attr-defined]
        if priority is not None:
            p.priority = priority  # type: ignore[attr-defined]
        return p

    make(
        plugin("late", trylast=True),
        plugin("b"),
        plugin("a"),
        plugin("urgent", priority=5),
        plugin("first", tryfirst=True),
    ).check_tool_call(tool_name="t", agent_id="a")
    assert order == ["first", "urgent", "b", "a", "late"]


# -- record_event -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["decision", "lifecycle", "Guardian.Incident", "incident", "a.b!", "x." + "y" * 70])
def test_record_event_refuses_core_and_malformed_kinds(kind: str) -> None:
    with pytest.raises(ValueError):
        make().record_event(kind, {})


def test_record_event_chains_a_bounded_copy_of_the_data() -> None:
    security = make()
    data = {"n": 1, "tags": ("a", "b")}
    event = security.record_event("identity.mismatch", data, agent_id="a")
    data["n"] = 2
    assert event.data == {"n": 1, "tags": ["a", "b"]} and event.sequence > 0 and event.hash
    assert security.get_audit_log()[-1] == event
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="cannot be recorded"):
        security.record_event("x.y", {"deep": deep})
