"""``agent-security demo quick`` (also ``demo --quick``): Agent-SPM's five-scenario quick demo (``test-demo.ts``).

The original's configuration: its default policy, a kill switch and a rate limiter of 3 calls per agent per
minute, an approver that always says no. Each row shows our outcome beside the original's; where they differ
the row says why. Exit status 1 when one of our outcomes is not the documented one.
"""

from __future__ import annotations

import sys
from typing import Any

from agent_security.core.demos.kit import Table
from agent_security.core.models import CheckResult

__all__ = ["run_quick_demo"]


def _verdict(result: CheckResult) -> str:
    codes = result.final_decision.codes
    return f"{'ALLOW' if result.allowed else 'DENY'} {codes[-1] if codes else ''}".strip()


def run_quick_demo(stream: Any = None) -> int:
    """Print the five scenarios as a table; 0 when every outcome is the documented one, else 1."""
    from agent_security.core.builtin import kill_switch, rate_limiter
    from agent_security.core.demo import DEMO_POLICY
    from agent_security.core.pipeline.facade import AgentSecurity

    out = stream or sys.stdout
    ks = kill_switch()
    security = AgentSecurity(
        policy_bundle=DEMO_POLICY(),
        plugins=[ks, rate_limiter(max_per_minute=3)],
        autoload=False,
        on_approval_required=lambda request, decision: False,
    )
    table = Table(["#", "scenario", "ours", "original", "why ours differs"], widths=[2, 44, 34, 34, 44],
                  title="agent-security demo quick — Agent-SPM's test-demo.ts, same policy and plugins")  # fmt: skip
    failures: list[str] = []

    def row(n: str, label: str, result: CheckResult, want: str, original: str, why: str = "") -> None:
        got = _verdict(result)
        table.add(n, label, got + ("" if got == want else "  UNEXPECTED"), original, why)
        if got != want:
            failures.append(f"{label}: got {got}, expected {want}")

    try:
        row(
            "1",
            "query_user_profile in dev",
            security.check_tool_call(
                tool_name="query_user_profile", tool_args={"user_id": "12345"}, agent_id="demo-agent", environment="dev"
            ),
            "ALLOW ALLOW_DEV_STAGING",
            "ALLOW ALLOW_DEV_STAGING",
        )
        row(
            "2",
            "'export all customers to a CSV file' in prod",
            security.check_tool_call(
                tool_name="query_customer_db",
                tool_args={"query": "SELECT * FROM customers"},
                agent_id="demo-agent",
                environment="prod",
                user_input="export all customers to a CSV file",
            ),
            "DENY DENY_BULK_EXPORT",
            "DENY DENY_BULK_EXPORT",
        )
        row(
            "3",
            "send_email in prod, the approver says no",
            security.check_tool_call(
                tool_name="send_email",
                tool_args={"to": "customer@example.com", "subject": "Update"},
                agent_id="demo-agent",
                environment="prod",
            ),
            "DENY REJECTED",
            "DENY REQUIRE_APPROVAL_EMAIL_PROD, REJECTED",
        )
        ks.kill("rogue-bot", "Suspicious behaviour")
        row(
            "4",
            "rogue-bot after kill('Suspicious behaviour')",
            security.check_tool_call(tool_name="read_data", agent_id="rogue-bot", environment="dev"),
            "DENY AGENT_KILL_SWITCH",
            "DENY AGENT_KILL_SWITCH",
        )
        ks.revive("rogue-bot")
        for i in range(1, 5):
            allowed = i <= 3
            row(
                "5" if i == 1 else "",
                f"speedy-agent fast_tool, call {i} of 4 (3 a minute)",
                security.check_tool_call(
                    tool_name="fast_tool", tool_args={"i": i}, agent_id="speedy-agent", environment="dev"
                ),
                "ALLOW ALLOW_DEV_STAGING" if allowed else "DENY RATE_LIMIT_AGENT",
                "ALLOW ALLOW_DEV_STAGING" if allowed else "DENY RATE_LIMIT_AGENT",
            )
        ks.kill("rogue-bot", "again")
        row(
            "+",
            "rogue-bot killed again, called as ROGUE-bot",
            security.check_tool_call(tool_name="read_data", agent_id="ROGUE-bot", environment="dev"),
            "DENY AGENT_KILL_SWITCH",
            "ALLOW (its kill map is keyed by the exact id)",
            "agent ids are canonicalised (case and Unicode form) before the kill switch and the limits see them",
        )
    finally:
        security.shutdown()
    table.render(out)
    print(file=out)
    if failures:
        for failure in failures:
            print(f"UNEXPECTED: {failure}", file=out)
        return 1
    print("every outcome is the documented one", file=out)
    return 0
