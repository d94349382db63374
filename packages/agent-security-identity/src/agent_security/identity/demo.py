# ruff: noqa: E501  (the scenario table reads best one scenario per line)
"""``agent-security identity demo``: the original's identity demo scenarios, with our outcomes.

The original's ``examples/01-identity-authz/demo.ts`` (five scenarios) and the identity part of
``examples/05-full-spm/demo.ts``, run through the identity enforcer with the same registry, tools and
policy (``examples/identity/``), then the attacks the original let through: self-asserted trust, a
confusable id, forged and expired attestations, a delegation chain one hop too deep, a tampered tool, a
killed agent under another spelling. Each line shows what the original decided and what we decide; the
demo exits 1 if any outcome differs from the expected one. The clock is fixed, so the run is the same
every time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.identity.attestation import Issuer, TokenVerifier, issue_attestation, public_key_pem
from agent_security.identity.delegation import issue_delegation
from agent_security.identity.enforcer import identity_enforcer
from agent_security.identity.registry import AgentRegistry
from agent_security.identity.tools import ToolRegistry, compute_hash

__all__ = ["AGENTS", "NOW", "POLICY", "TOOLS", "Scenario", "build", "run_demo", "scenarios"]

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
"""The demo's fixed clock."""

AGENTS: list[dict[str, Any]] = [
    {"agent_id": "finance-bot", "name": "Finance Bot", "agent_type": "workflow_agent", "trust_level": "privileged",
     "roles": ["finance.reader", "finance.writer"], "environment": "prod", "max_delegation_depth": 1},
    {"agent_id": "intern-bot", "name": "Intern Bot", "agent_type": "chat_agent", "trust_level": "basic",
     "roles": ["finance.reader"], "environment": "prod"},
    {"agent_id": "auto-bot", "name": "Autonomous Bot", "agent_type": "autonomous_agent", "trust_level": "verified",
     "roles": ["db.writer"], "capabilities": ["tool_call", "code_execute"], "environment": "prod"},
    {"agent_id": "rogue-bot", "name": "Rogue Bot", "agent_type": "autonomous_agent", "trust_level": "basic",
     "capabilities": ["tool_call", "code_execute", "web_browse"], "environment": "prod"},
]  # fmt: skip
MANIFEST = '{"name": "query_customer_db", "version": "2.1.0", "schema": {}}'
TOOLS: list[dict[str, Any]] = [
    {"tool_name": "trigger_payment", "version": "1.0.0", "provider": "built-in",
     "permissions_required": ["finance.write"]},
    {"tool_name": "query_customer_db", "version": "2.1.0", "provider": "built-in", "permissions_required": ["db.read"],
     "manifest_hash": compute_hash(MANIFEST)},
    {"tool_name": "write_db", "version": "1.0.0", "provider": "built-in", "permissions_required": ["db.write"]},
]  # fmt: skip
POLICY = """{
  "version": "1.0.0", "generated_at": "2026-01-21T00:00:00.000Z", "expires_at": "2099-01-21T00:00:00.000Z",
  "rules": [
    {"id": "PRIVILEGED_PAYMENT", "match": {"tool_name": "trigger_payment", "environment": "prod",
     "trust_level_min": "privileged"}, "outcome": "ALLOW"},
    {"id": "DENY_PAYMENT_LOW_TRUST", "match": {"tool_name": "trigger_payment", "environment": "prod"},
     "outcome": "DENY"},
    {"id": "AUTONOMOUS_DB_WRITE_TICKET", "match": {"tool_name": "write_db", "environment": "prod",
     "agent_type": "autonomous_agent"}, "outcome": "REQUIRE_TICKET"},
    {"id": "ALLOW_DB_READ", "match": {"tool_name": "query_customer_db", "environment": "*",
     "agent_roles_any": ["finance.reader", "db.reader"]}, "outcome": "ALLOW"},
    {"id": "DEFAULT_ALLOW", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}
  ],
  "defaults": {"outcome": "DENY"}
}"""


@dataclass
class Scenario:
    title: str
    call: dict[str, Any]
    allowed: bool
    code: str
    original: str
    setup: Callable[[Any], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoWorld:
    security: Any
    kill_switch: Any
    issuer_key: Ed25519PrivateKey
    agent_keys: dict[str, Ed25519PrivateKey]
    now: float


def build() -> DemoWorld:
    """The demo's ``AgentSecurity``: registry, tools, an issuer, the identity enforcer and a kill switch."""
    from agent_security.core import AgentSecurity
    from agent_security.core.builtin import kill_switch

    issuer_key = Ed25519PrivateKey.generate()
    agent_keys = {a["agent_id"]: Ed25519PrivateKey.generate() for a in AGENTS}
    agents, tools = AgentRegistry(refresh_s=0), ToolRegistry(refresh_s=0)
    agents.load_records([a | {"public_keys": {"k1": public_key_pem(agent_keys[a["agent_id"]])}} for a in AGENTS])
    tools.load_records(TOOLS)
    verifier = TokenVerifier(issuers=[Issuer(name="ops-ca", keys={"2026-06": issuer_key.public_key()})])
    enforcer = identity_enforcer(
        agent_registry=agents,
        tool_registry=tools,
        verifier=verifier,
        require_registration=True,
        minimum_trust_level="basic",
    )
    ks = kill_switch()
    security = AgentSecurity(
        policy_json=POLICY,
        autoload=False,
        plugins=[enforcer, ks],
        on_ticket_required=lambda *_a, **_k: "JIRA-1234",
        clock=lambda: NOW,
    )
    return DemoWorld(security, ks, issuer_key, agent_keys, NOW.timestamp())


def scenarios(world: DemoWorld) -> list[Scenario]:
    now, keys = world.now, world.agent_keys
    forged = issue_attestation(
        Ed25519PrivateKey.generate(), issuer="ops-ca", agent_id="intern-bot", now=now, kid="2026-06"
    )
    expired = issue_attestation(
        world.issuer_key, issuer="ops-ca", agent_id="intern-bot", now=now - 7200, ttl_s=3600, kid="2026-06"
    )
    valid = issue_attestation(world.issuer_key, issuer="ops-ca", agent_id="intern-bot", now=now, kid="2026-06")
    hop1 = issue_delegation(
        keys["finance-bot"], delegator="finance-bot", delegate="intern-bot", scope=["*"], now=now, kid="k1"
    )
    hop2 = issue_delegation(
        keys["intern-bot"], delegator="intern-bot", delegate="auto-bot", scope=["*"], now=now, kid="k1"
    )
    one_hop = issue_delegation(
        keys["finance-bot"], delegator="finance-bot", delegate="auto-bot", scope=["query_*"], now=now, kid="k1"
    )
    prod = {"environment": "prod"}
    pay = {"tool_name": "trigger_payment", "tool_args": {"amount": 100, "currency": "USD"}} | prod
    read = {"tool_name": "query_customer_db", "tool_args": {"query": "SELECT name FROM customers LIMIT 10"}} | prod
    return [
        Scenario("01 S1 privileged finance-bot pays", pay | {"agent_id": "finance-bot"}, True, "PRIVILEGED_PAYMENT",
                 "ALLOW PRIVILEGED_PAYMENT"),
        Scenario("01 S2 basic intern-bot pays", pay | {"agent_id": "intern-bot"}, False, "DENY_PAYMENT_LOW_TRUST",
                 "DENY INSUFFICIENT_TRUST (prod penalty bug; intended DENY_PAYMENT_LOW_TRUST)"),
        Scenario("01 S3 autonomous auto-bot writes the db",
                 {"tool_name": "write_db", "tool_args": {"table": "users", "operation": "UPDATE"}, "agent_id": "auto-bot"} | prod,
                 True, "AUTONOMOUS_DB_WRITE_TICKET", "REQUIRE_TICKET, ticket JIRA-1234 validated"),
        Scenario("01 S4 unknown-agent reads", read | {"agent_id": "unknown-agent"}, False, "AGENT_UNREGISTERED",
                 "DENY AGENT_UNREGISTERED"),
        Scenario("01 S5 intern-bot reads (role-based)", read | {"agent_id": "intern-bot"}, True, "ALLOW_DB_READ",
                 "DENY INSUFFICIENT_TRUST (intended ALLOW_DB_READ)"),
        Scenario("05 S9 basic rogue-bot reads", read | {"agent_id": "rogue-bot"}, True, "DEFAULT_ALLOW",
                 "DENY INSUFFICIENT_TRUST (the guardian, not identity, is meant to stop it)"),
        Scenario("intern-bot claims trust system and finance.writer",
                 pay | {"agent_id": "intern-bot", "trust_level": "system", "roles": ["finance.writer"]}, False,
                 "DENY_PAYMENT_LOW_TRUST", "ALLOW (claims win over the registry, W7)"),
        Scenario("'Finance-Bot ' is finance-bot", pay | {"agent_id": "Finance-Bot "}, True, "PRIVILEGED_PAYMENT",
                 "DENY AGENT_UNREGISTERED (ids compared as written)"),
        Scenario("Cyrillic 'f\u0456nance-bot' looks like finance-bot", pay | {"agent_id": "f\u0456nance-bot"}, False,
                 "IDENTITY_MISMATCH", "DENY AGENT_UNREGISTERED"),
        Scenario("forged attestation", read | {"agent_id": "intern-bot", "context": {"identity": {"attestation": forged}}},
                 False, "ATTESTATION_INVALID", "attestation presence counted, never verified"),
        Scenario("expired attestation", read | {"agent_id": "intern-bot", "context": {"identity": {"attestation": expired}}},
                 False, "ATTESTATION_EXPIRED", "-20 points, still evaluated"),
        Scenario("valid attestation: intern-bot earns verified",
                 read | {"agent_id": "intern-bot", "context": {"identity": {"attestation": valid}}}, True, "ALLOW_DB_READ",
                 "-"),
        Scenario("delegation finance-bot > intern-bot > auto-bot (finance-bot allows 1 level)",
                 read | {"agent_id": "auto-bot", "context": {"identity": {"delegation": [hop1, hop2]}}}, False,
                 "DELEGATION_DEPTH_EXCEEDED", "delegation_chain was unsigned caller data"),
        Scenario("delegation finance-bot > auto-bot for query_*",
                 read | {"agent_id": "auto-bot", "context": {"identity": {"delegation": [one_hop]}}}, True, "DEFAULT_ALLOW",
                 "-"),
        Scenario("delegated auto-bot pays (outside the scope query_*)",
                 pay | {"agent_id": "auto-bot", "context": {"identity": {"delegation": [one_hop]}}}, False,
                 "DELEGATION_SCOPE", "-"),
        Scenario("tampered query_customer_db manifest",
                 read | {"agent_id": "intern-bot", "tool_identity": {"tool_name": "query_customer_db",
                                                                      "manifest_hash": compute_hash("tampered")}},
                 False, "TOOL_HASH_MISMATCH", "never checked when registration is required (W20)"),
        Scenario("killed auto-bot calls as 'AUTO-BOT'", read | {"agent_id": "AUTO-BOT"}, False, "AGENT_KILL_SWITCH",
                 "ALLOW (a fresh id)", setup=lambda w: w.kill_switch.kill("auto-bot", "compromised")),
    ]  # fmt: skip


def run_demo(echo: Callable[[str], None] = print) -> int:
    """Run every scenario; 0 when all outcomes are the expected ones, else 1."""
    world = build()
    failures = 0
    try:
        for i, sc in enumerate(scenarios(world), 1):
            if sc.setup is not None:
                sc.setup(world)
            result = world.security.check_tool_call(**sc.call)
            codes = result.final_decision.codes
            ok = result.allowed == sc.allowed and sc.code in codes
            failures += not ok
            verdict = "ALLOW" if result.allowed else "DENY"
            echo(f"{i:2}. {sc.title}")
            echo(f"    ours: {verdict} {', '.join(codes)}   original: {sc.original}   {'ok' if ok else 'UNEXPECTED'}")
    finally:
        world.security.shutdown()
    echo(f"{'all outcomes as expected' if not failures else f'{failures} unexpected outcome(s)'}")
    return 1 if failures else 0
