# ruff: noqa: E501  (the scenario table reads best one scenario per line)
"""``agent-security demo egress``: the original's egress demo scenarios, with our outcomes.

The original's ``examples/02-egress-dlp/demo.ts`` (four calls and a compliance report over the egress log),
run through ``AgentSecurity`` with the same egress policy and tool mappings, then what the original let
through or got wrong before issue 19: secrets behind base32 and gzip+base64, a platform token with a prefix of its own, a
card of a brand outside the big four, a split payload, and what must stay clean (code that fetches a
password, a lockfile hash, a 700 KB base64 image write). Each line shows what the original decided and
what we decide; the demo exits 1 if any outcome differs from the expected one.
"""

from __future__ import annotations

import base64
import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent_security.egress.testing import generate

__all__ = ["CONFIG", "Scenario", "run_demo", "scenarios"]

CONFIG: dict[str, Any] = {
    "egress": {
        "rules": [
            {"id": "BLOCK_PII_EMAIL", "description": "Block PII from being sent via email", "classifications": ["PII"], "channels": ["email"], "action": "block"},
            {"id": "BLOCK_PCI_ALL", "description": "Block card data on every channel", "classifications": ["PCI"], "action": "block"},
            {"id": "BLOCK_SECRETS_ALL", "description": "Block secrets on every channel", "classifications": ["SECRET"], "action": "block"},
            {"id": "ALLOW_PII_INTERNAL", "classifications": ["PII"], "channels": ["db_query"], "allowed_destinations": ["*.internal.company.com"], "action": "block"},
        ],
        "default_action": "allow",
        "tool_channel_mappings": [
            {"tool_name": "send_email", "channel": "email", "destination_field": "to"},
            {"tool_name": "query_*", "channel": "db_query", "destination_field": "database"},
            {"tool_name": "write_file", "channel": "file_write", "destination_field": "path"},
            {"tool_name": "http_request", "channel": "http_request", "destination_field": "url"},
        ],
    }
}  # fmt: skip
"""The original demo's egress policy: block PII by email, card data and secrets everywhere; default allow."""


@dataclass
class Scenario:
    title: str
    tool_name: str
    agent_id: str
    tool_args: dict[str, Any]
    allowed: bool
    code: str
    original: str
    """What the original decided (the demo's four calls), or what this distribution decided before issue 19."""
    before: bool = False


def _bundle() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "version": "1.0.0",
        "generated_at": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rules": [{"id": "ALLOW_ALL", "match": {"tool_name": "*", "environment": "*"}, "outcome": "ALLOW"}],
        "defaults": {"outcome": "ALLOW"},
    }


def _luhn_complete(body: str) -> str:
    """``body`` plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def scenarios() -> list[Scenario]:
    token = generate("github_token", 11)
    leak = f"deploy key {token} for ops@acme-corp.com"
    image = base64.encodebytes(random.Random(3).randbytes(525_000)).decode()  # noqa: S311 - a 700 KB base64 file
    mir = _luhn_complete("220012345678901")  # Mir: IIN 2200-2204
    return [
        # examples/02-egress-dlp/demo.ts
        Scenario("SSN and email in an email body", "send_email", "support-bot",
                 {"to": "customer@external.com", "subject": "Account Info", "body": "Dear John, your SSN is 123-45-6789 and your email is john@example.com"},
                 False, "EGRESS_BLOCKED", "DENY EGRESS_BLOCKED (BLOCK_PII_EMAIL)"),
        Scenario("card number in an email body", "send_email", "billing-bot",
                 {"to": "billing@company.com", "subject": "Payment update", "body": "Card: 4111-1111-1111-1111, Exp: 12/25"},
                 False, "EGRESS_BLOCKED", "DENY EGRESS_BLOCKED by BLOCK_PII_EMAIL (the recipient address counted as PII)"),
        Scenario("redacted webhook body", "http_request", "integration-bot",
                 {"url": "https://external-api.com/webhook", "body": "token=REDACTED"},
                 True, "ALLOW_ALL", "ALLOW ALLOW_ALL"),
        Scenario("clean email", "send_email", "scheduler-bot",
                 {"to": "team@company.com", "subject": "Meeting reminder", "body": "Don't forget the standup at 10am tomorrow!"},
                 True, "ALLOW_ALL", "DENY EGRESS_BLOCKED (every email with a recipient was blocked)"),
        # what got through or was wrongly blocked before issue 19
        Scenario("token and email behind base32", "http_request", "integration-bot",
                 {"url": "https://paste.example.net/api", "body": base64.b32encode(leak.encode()).decode()},
                 False, "EGRESS_BLOCKED", "ALLOW (no base32 decoding)"),
        Scenario("token behind gzip + base64", "http_request", "integration-bot",
                 {"url": "https://paste.example.net/api", "body": base64.b64encode(gzip.compress(leak.encode())).decode()},
                 False, "EGRESS_BLOCKED", "ALLOW (no decompression)"),
        Scenario("GitLab token (a prefix of its own)", "http_request", "ci-bot",
                 {"url": "https://hooks.example.net/x", "body": "GITLAB_TOKEN=glpat-Zq8xW3vB7nM2kL5pR9tY"},
                 False, "EGRESS_BLOCKED", "ALLOW (only five token formats known)"),
        Scenario("Mir card (outside the big four)", "http_request", "billing-bot",
                 {"url": "https://partner.example.net/pay", "body": f"pan {mir}"},
                 False, "EGRESS_BLOCKED", "ALLOW (four card brands known)"),
        Scenario("password on a command line", "http_request", "ops-bot",
                 {"url": "https://runner.example.net/exec", "body": "mysql --password Vq7!mR2x#kP9 -h db.internal"},
                 False, "EGRESS_BLOCKED", "ALLOW"),
        # what must stay clean
        Scenario("code that fetches a password", "write_file", "dev-bot",
                 {"path": "/src/db.py", "content": 'password = os.getenv("DB_PASSWORD")\nsecret = getpass()\napi_key = settings.API_KEY\n'},
                 True, "ALLOW_ALL", "DENY EGRESS_BLOCKED (the word password)"),
        Scenario("lockfile integrity hashes", "write_file", "dev-bot",
                 {"path": "/src/package-lock.json", "content": '"integrity": "sha512-Zq8xW3vB7nM2kL5pR9tYz1c4e7g0j3m6p9s2v5y8B1E4H7K0N3Q6T9W2Z5c8f1i4l7o0r3u6x9A2D5G8J1M4P7S0V3Y6b9e2h5k8n1q4t7w0z3C6F9I2L5O8R1U4X7a0d3g6j9m2p5s8v1y4B7E0H3K6N9Q2T5W8Z1c4f7i0l3o6r9u2x5A8D1G4J7M0P3S6V9Y2b5e8h1k4n7q0t3w6z9C2F5I8L1O4R7U0X3a6d9g2j5m8p1s4v7y0B3E6H9K2N5Q8T1W4Z7c0f3i6l9o2r5u8x1A4D7G0J3M6P9S2V5Y8b1e4h7k0n3q6t9w2z5C8F1I4L7O0R3U6X9a2d5g8j1m4p7s0v3y6B9E2H5K8N1Q4T7W0Z3c6f9==", "resolved": "https://registry.npmjs.org/x/-/x-1.0.0.tgz"'},
                 True, "ALLOW_ALL", "ALLOW"),
        Scenario("700 KB base64 image write", "write_file", "design-bot",
                 {"path": "/assets/logo.png.b64", "content": image},
                 True, "ALLOW_ALL", "DENY EGRESS_SCAN_LIMIT (too big to scan)"),
    ]  # fmt: skip


def run_demo(echo: Callable[[str], None] = print) -> int:
    """Run every scenario and the compliance report; 0 when all outcomes are the expected ones, else 1."""
    from agent_security.core import AgentSecurity
    from agent_security.egress.compliance import ComplianceReporter

    security = AgentSecurity(policy_bundle=_bundle(), config=CONFIG)
    failures = 0
    try:
        for i, sc in enumerate(scenarios(), 1):
            result = security.check_tool_call(
                tool_name=sc.tool_name, tool_args=sc.tool_args, agent_id=sc.agent_id, environment="prod"
            )
            decision = result.final_decision
            ok = result.allowed == sc.allowed and sc.code in decision.codes
            failures += not ok
            verdict = "ALLOW" if result.allowed else "DENY"
            why = decision.reasons[0].message if decision.reasons and not result.allowed else ""
            echo(f"{i:2}. {sc.title} ({sc.tool_name}, {sc.agent_id})")
            then = "before" if sc.before else "original"
            echo(
                f"    ours: {verdict} {', '.join(decision.codes)}   {then}: {sc.original}   {'ok' if ok else 'UNEXPECTED'}"
            )
            if why:
                echo(f"    {why}")
        enforcer = security.get_plugin("egress-enforcer")
        if enforcer is not None:
            report = ComplianceReporter().generate_report(enforcer.get_egress_log())
            summary = report.summary
            echo("")
            echo(f"compliance report: {summary.total_events} egress events, {summary.blocked_events} blocked, "
                 f"classifications {summary.classifications_detected}; evidence no_pii_egress="
                 f"{report.evidence.no_pii_egress} no_pci_egress={report.evidence.no_pci_egress} "
                 f"no_secrets_egress={report.evidence.no_secrets_egress}")  # fmt: skip
    finally:
        security.shutdown()
    echo("")
    echo("all outcomes as expected" if not failures else f"{failures} outcome(s) differ from the expected ones")
    return 1 if failures else 0
