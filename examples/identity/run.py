"""The identity example in Python: a registry file, an attestation, a delegation chain."""

from __future__ import annotations

import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_security.core import AgentSecurity
from agent_security.identity import (
    AgentRegistry,
    Issuer,
    TokenVerifier,
    ToolRegistry,
    identity_enforcer,
    issue_attestation,
)

HERE = Path(__file__).resolve().parent

agents, tools = AgentRegistry(), ToolRegistry()
agents.load(HERE / "registry.yaml")
tools.load(HERE / "registry.yaml")
ca = Ed25519PrivateKey.generate()
security = AgentSecurity(
    policy_path=HERE / "policy.json",
    autoload=False,
    plugins=[
        identity_enforcer(
            agent_registry=agents,
            tool_registry=tools,
            verifier=TokenVerifier(issuers=[Issuer(name="ops-ca", keys={"k1": ca.public_key()})]),
            minimum_trust_level="basic",
        )
    ],
)
pay = {"tool_name": "trigger_payment", "tool_args": {"amount": 100}, "environment": "prod"}
for agent, extra in (
    ("finance-bot", {}),
    ("intern-bot", {"trust_level": "system"}),
    (
        "Intern-Bot",
        {
            "context": {
                "identity": {
                    "attestation": issue_attestation(
                        ca, issuer="ops-ca", agent_id="intern-bot", now=time.time(), kid="k1"
                    )
                }
            }
        },
    ),
    ("ghost", {}),
):
    result = security.check_tool_call(**pay, agent_id=agent, **extra)
    print(f"{agent:12} {'ALLOW' if result.allowed else 'DENY '} {', '.join(result.final_decision.codes)}")
security.shutdown()
