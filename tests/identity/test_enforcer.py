"""The identity enforcer in a full AgentSecurity: identity from the registry, never from the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.core import AgentSecurity, MemoryStore, StoreUnavailable
from agent_security.core.builtin import kill_switch
from agent_security.identity import (
    AgentRegistry,
    Issuer,
    TokenVerifier,
    ToolRegistry,
    TrustEvaluator,
    compute_hash,
    identity_enforcer,
    issue_attestation,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T = NOW.timestamp()
PAY = {"tool_name": "trigger_payment", "tool_args": {"amount": 1}, "environment": "prod"}
READ = {"tool_name": "query_customer_db", "tool_args": {"query": "SELECT name"}, "environment": "prod"}


def make(
    policy_path: Path, *, plugins: tuple[Any, ...] = (), **kw: Any
) -> tuple[AgentSecurity, AgentRegistry, list[Any]]:
    agents = kw.pop("agents", None)
    agents = AgentRegistry() if agents is None else agents
    events: list[Any] = []
    enforcer = identity_enforcer(agent_registry=agents, **kw)
    security = AgentSecurity(
        policy_path=policy_path,
        autoload=False,
        plugins=[enforcer, *plugins],
        clock=lambda: NOW,
        on_audit_event=events.append,
    )
    return security, agents, events


def test_self_asserted_system_is_denied_by_a_privileged_only_rule(policy_path: Path) -> None:
    security, agents, events = make(policy_path, require_registration=False)
    agents.register(agent_id="helper", trust_level="verified", roles=["finance.reader"])
    for agent in ("helper", "stranger"):
        result = security.check_tool_call(**PAY, agent_id=agent, trust_level="system", roles=["finance.writer"])
        assert not result.allowed and result.final_decision.codes == ("DENY_PAYMENT_LOW_TRUST",)
    mismatch = [e for e in events if e.kind == "identity.mismatch"]
    assert len(mismatch) == 1 and mismatch[0].agent_id == "helper"
    assert mismatch[0].reasons[0].code == "IDENTITY_MISMATCH"
    assert set(mismatch[0].data["fields"]) == {"trust_level", "roles"}
    changes = next(e for e in events if e.kind == "decision").data["plugins"]["identity"]["changes"]
    assert changes["trust_level"]["claimed"] == "system" and changes["trust_level"]["registered"] == "verified"


def test_registered_identity_is_what_the_policy_matches(policy_path: Path) -> None:
    security, agents, _ = make(policy_path)
    agents.register(agent_id="finance-bot", trust_level="privileged", environment="prod")
    agents.register(agent_id="intern-bot", trust_level="basic", roles=["finance.reader"], environment="prod")
    assert security.check_tool_call(**PAY, agent_id="finance-bot").final_decision.codes == ("PRIVILEGED_PAYMENT",)
    assert security.check_tool_call(**READ, agent_id="intern-bot").final_decision.codes == ("ALLOW_DB_READ",)
    result = security.check_tool_call(**(READ | {"environment": "dev"}), agent_id="intern-bot", owner="me")
    assert result.request.agent.environment == "prod" and result.request.agent.verified


def test_strict_denies_a_mismatch_instead(policy_path: Path) -> None:
    security, agents, events = make(policy_path, strict=True)
    agents.register(agent_id="bot", trust_level="basic", agent_type="chat_agent")
    result = security.check_tool_call(**READ, agent_id="bot", agent_type="autonomous_agent")
    assert result.final_decision.codes == ("IDENTITY_MISMATCH",)
    assert [e.data["action"] for e in events if e.kind == "identity.mismatch"] == ["denied"]
    assert security.check_tool_call(**READ, agent_id="bot", agent_type="Chat_Agent").allowed


def test_registration_unknown_revoked_and_confusable_ids(policy_path: Path) -> None:
    security, agents, events = make(policy_path)
    agents.register(agent_id="agent-7", environment="prod")
    assert security.check_tool_call(**READ, agent_id="nobody").final_decision.codes == ("AGENT_UNREGISTERED",)
    looks = security.check_tool_call(**READ, agent_id="\u0430gent-7")
    assert looks.final_decision.codes == ("IDENTITY_MISMATCH",)
    assert events[-2].kind == "identity.mismatch" and events[-2].data["registered_agent_id"] == "agent-7"
    agents.revoke("agent-7")
    assert security.check_tool_call(**READ, agent_id="Agent-7").final_decision.codes == ("AGENT_REVOKED",)


def test_a_killed_registered_agent_stays_killed_under_every_spelling(policy_path: Path) -> None:
    ks = kill_switch()
    security, agents, _ = make(policy_path, plugins=(ks,))
    agents.register(agent_id="agent-7", environment="prod")
    assert security.check_tool_call(**READ, agent_id="agent-7").allowed
    ks.kill("agent-7", "compromised")
    for spelling in ("agent-7", "Agent-7", "agent-7 ", "agent\u200b-7", "\uff41gent-7", "AGENT\u00ad-7"):
        result = security.check_tool_call(**READ, agent_id=spelling)
        assert result.final_decision.codes == ("AGENT_KILL_SWITCH",), spelling
    assert security.check_tool_call(**READ, agent_id="\u0430gent-7").final_decision.codes == ("IDENTITY_MISMATCH",)


def test_a_basic_agent_meets_basic_in_prod_without_attestation(policy_path: Path) -> None:
    """The original's -10 penalty dropped every unattested basic agent below basic in prod (demo 01 S2/S5)."""
    security, agents, _ = make(policy_path, minimum_trust_level="basic")
    agents.register(agent_id="intern-bot", trust_level="basic", roles=["finance.reader"], environment="prod")
    assert security.check_tool_call(**READ, agent_id="intern-bot").final_decision.codes == ("ALLOW_DB_READ",)
    capped = TrustEvaluator(unattested_max_trust_by_environment={"prod": "basic"})
    strict, agents2, _ = make(policy_path, trust_evaluator=capped, minimum_trust_by_environment={"prod": "verified"})
    agents2.register(agent_id="boss", trust_level="privileged", environment="prod")
    result = strict.check_tool_call(**PAY, agent_id="boss")
    assert result.final_decision.codes == ("INSUFFICIENT_TRUST",)
    assert 'trust level "basic" is below minimum "verified"' in result.final_decision.reasons[0].message


def test_tool_checks_run_when_registration_is_required(policy_path: Path) -> None:
    """The original returned before its tool checks whenever registration was required (W20)."""
    tools = ToolRegistry()
    tools.register(tool_name="query_customer_db", manifest_hash=compute_hash("m"), permissions_required=["db.read"])
    security, agents, _ = make(
        policy_path, tool_registry=tools, require_tool_registration=True, enforce_tool_permissions=True
    )
    agents.register(agent_id="reader", roles=["db.reader"], permissions=["db.read"], environment="prod")
    agents.register(agent_id="nope", roles=["db.reader"], environment="prod")
    ok = security.check_tool_call(**READ, agent_id="reader")
    assert ok.allowed and ok.request.action.tool_identity.verified  # type: ignore[union-attr]
    assert security.check_tool_call(**PAY, agent_id="reader").final_decision.codes == ("TOOL_UNREGISTERED",)
    assert security.check_tool_call(**READ, agent_id="nope").final_decision.codes == ("TOOL_PERMISSION_MISSING",)
    tampered = {"tool_name": "query_customer_db", "manifest_hash": compute_hash("other"), "verified": True}
    assert security.check_tool_call(**READ, agent_id="reader", tool_identity=tampered).final_decision.codes == (
        "TOOL_HASH_MISMATCH",
    )
    tools.revoke("query_customer_db")
    assert security.check_tool_call(**READ, agent_id="reader").final_decision.codes == ("TOOL_REVOKED",)


def test_attestations_in_a_check(policy_path: Path, ca_key: Ed25519PrivateKey) -> None:
    v = TokenVerifier(issuers=[Issuer(name="ca", keys={"k1": ca_key.public_key()})])
    security, _, _ = make(policy_path, verifier=v, require_registration=False, minimum_trust_level="verified")
    good = issue_attestation(ca_key, issuer="ca", agent_id="ext", now=T, kid="k1")
    forged = issue_attestation(Ed25519PrivateKey.generate(), issuer="ca", agent_id="ext", now=T, kid="k1")
    expired = issue_attestation(ca_key, issuer="ca", agent_id="ext", now=T - 7200, ttl_s=60, kid="k1")
    result = security.check_tool_call(**READ, agent_id="ext", context={"identity": {"attestation": good}})
    assert result.request.agent.trust_level == "verified" and result.request.agent.verified
    assert security.check_tool_call(**READ, agent_id="ext").final_decision.codes == ("INSUFFICIENT_TRUST",)
    for token, code in ((forged, "ATTESTATION_INVALID"), (expired, "ATTESTATION_EXPIRED")):
        bad = security.check_tool_call(**READ, agent_id="ext", context={"identity": {"attestation": token}})
        assert bad.final_decision.codes == (code,)
    legacy = security.check_tool_call(
        **READ, agent_id="ext", attestation={"issuer": "ca", "issued_at": "x", "signature": good}
    )
    assert legacy.request.agent.verified


def test_an_unsigned_delegation_chain_is_dropped_or_denied(policy_path: Path) -> None:
    security, agents, events = make(policy_path)
    agents.register(agent_id="bot", environment="prod")
    result = security.check_tool_call(**READ, agent_id="bot", delegation_chain=["root", "mid"])
    assert result.request.context.delegation_chain == ()
    assert events[-1].data["plugins"]["identity"]["changes"]["delegation_chain"]["claimed"] == ["root", "mid"]
    deny, agents2, _ = make(policy_path, unsigned_delegation="deny")
    agents2.register(agent_id="bot", environment="prod")
    assert deny.check_tool_call(**READ, agent_id="bot", delegation_chain=["x"]).final_decision.codes == (
        "DELEGATION_UNSIGNED",
    )


def test_a_store_failure_denies(policy_path: Path) -> None:
    class Broken(MemoryStore):
        def get(self, key: str, default: Any = None) -> Any:
            raise StoreUnavailable("down")

    agents = AgentRegistry(store=Broken(), refresh_s=0)
    security, _, _ = make(policy_path, agents=agents)
    assert security.check_tool_call(**READ, agent_id="bot").final_decision.codes == ("STORE_UNAVAILABLE",)


# -- the auto-discovered plugin and its CLI -----------------------------------------------------------


def test_installed_without_a_section_it_believes_no_caller(policy_path: Path) -> None:
    security = AgentSecurity(policy_path=policy_path)
    assert security.get_plugin("identity-enforcer") is not None
    result = security.check_tool_call(**PAY, agent_id="anyone", trust_level="system")
    assert result.final_decision.codes == ("DENY_PAYMENT_LOW_TRUST",)
    assert security.check_tool_call(**READ, agent_id="anyone").final_decision.codes == ("DEFAULT_ALLOW",)


def test_configured_from_the_identity_section(tmp_path: Path, policy_path: Path, ca_key: Ed25519PrivateKey) -> None:
    from agent_security.identity import public_key_pem

    (tmp_path / "ca.pub.pem").write_text(public_key_pem(ca_key))
    registry = Path(__file__).resolve().parents[2] / "examples" / "identity" / "registry.yaml"
    cfg = tmp_path / "agent-security.toml"
    cfg.write_text(
        f'[identity]\nrequire_registration = true\nminimum_trust_level = "basic"\nregistry_files = ["{registry}"]\n'
        f'[[identity.issuers]]\nname = "ca"\nkeys = {{ k1 = "{tmp_path / "ca.pub.pem"}" }}\n'
    )
    security = AgentSecurity(policy_path=policy_path, config_path=cfg, store=MemoryStore())
    assert security.check_tool_call(**PAY, agent_id="finance-bot").final_decision.codes == ("PRIVILEGED_PAYMENT",)
    assert security.check_tool_call(**PAY, agent_id="intern-bot").final_decision.codes == ("DENY_PAYMENT_LOW_TRUST",)
    assert security.check_tool_call(**PAY, agent_id="ghost").final_decision.codes == ("AGENT_UNREGISTERED",)
    cfg.write_text('[identity]\nissuers = [{ name = "ca", keys = { k1 = "/nonexistent.pem" } }]\n')
    with pytest.raises(Exception, match="issuer"):
        AgentSecurity(policy_path=policy_path, config_path=cfg)


def test_cli_register_list_revoke_and_demo(tmp_path: Path) -> None:
    from agent_security.core.cli import PLUGIN_COMMANDS, build_cli

    assert PLUGIN_COMMANDS["identity"] == "agent-security-identity"
    cli, runner = build_cli(), CliRunner()
    out = runner.invoke(cli, ["identity", "register", "Agent-7", "--trust", "verified", "--role", "ops"])
    assert out.exit_code == 0, out.output
    listed = runner.invoke(cli, ["identity", "list", "--json"])
    assert '"agent_id": "agent-7"' in listed.output
    assert runner.invoke(cli, ["identity", "revoke", "agent-7"]).exit_code == 0
    assert runner.invoke(cli, ["identity", "register", "agent-7"]).exit_code == 1
    demo = runner.invoke(cli, ["identity", "demo"])
    assert demo.exit_code == 0 and "all outcomes as expected" in demo.output
    demo = runner.invoke(cli, ["demo", "identity"])
    assert demo.exit_code == 0 and "all outcomes as expected" in demo.output


def test_an_identity_already_as_registered_is_not_replaced(policy_path: Path) -> None:
    """An unregistered agent that claims what the enforcer would give it anyway (trust ``untrusted``, no
    roles) keeps its request: nothing is replaced and no change is recorded, while the enforcer's own
    facts are still audited; a claim that differs is replaced and recorded as before."""
    security, _agents, events = make(policy_path, require_registration=False)
    enforcer = security.get_plugin("identity-enforcer")
    security.check_tool_call(**READ, agent_id="stranger", trust_level="untrusted")
    plugins = next(e for e in reversed(events) if e.kind == "decision").data["plugins"]
    assert "identity" not in plugins
    assert plugins["identity-enforcer"]["registered"] is False
    assert plugins["identity-enforcer"]["effective_trust"] == "untrusted"
    memo = next(iter(enforcer._memo.values()))
    assert memo.result.agent is None
    security.check_tool_call(**READ, agent_id="stranger")
    plugins = next(e for e in reversed(events) if e.kind == "decision").data["plugins"]
    assert plugins["identity"]["changes"]["trust_level"] == {
        "claimed": None,
        "registered": "untrusted",
        "by": "identity-enforcer",
    }


def test_a_lookalike_registered_after_a_check_is_seen_on_the_next_one(policy_path: Path) -> None:
    """The enforcer remembers its conclusion for an unregistered agent; registering an agent that id
    looks like, or the agent itself, or a tool, is seen by the very next check of the same caller."""
    security, agents, _events = make(policy_path, require_registration=False)
    enforcer = security.get_plugin("identity-enforcer")
    lookalike = "\u0430gent-7"
    request = security.build_request(**READ, agent_id=lookalike)
    assert enforcer.agent_security_identify(request, None) is enforcer.agent_security_identify(request, None)
    assert security.check_tool_call(**READ, agent_id=lookalike).allowed
    agents.register(agent_id="agent-7", environment="prod")
    assert security.check_tool_call(**READ, agent_id=lookalike).final_decision.codes == ("IDENTITY_MISMATCH",)
    assert security.check_tool_call(**READ, agent_id="stranger").allowed
    agents.register(agent_id="stranger", environment="prod", trust_level="basic")
    result = security.check_tool_call(**READ, agent_id="stranger")
    assert result.request.agent.verified and result.request.agent.trust_level == "basic"
