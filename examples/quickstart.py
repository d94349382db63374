"""Quick start: a policy, two built-in plugins, a check, an approval and a protected function.

Run with ``uv run python examples/quickstart.py`` from the repository root.
"""

from __future__ import annotations

from pathlib import Path

from agent_security.core import ActionRequest, AgentSecurity, Decision, SecurityError
from agent_security.core.builtin import kill_switch, rate_limiter

POLICY = Path(__file__).parent / "policies" / "default-policy.yaml"


def ask_finance_manager(request: ActionRequest, decision: Decision) -> bool:
    print(f"  approval asked of {decision.approver_role} for {request.tool_name} {dict(request.action.tool_args)}")
    return request.action.tool_args.get("amount", 0) < 10_000


def main() -> None:
    ks = kill_switch()
    with AgentSecurity(
        policy_path=POLICY,
        plugins=[ks, rate_limiter(max_per_minute=60)],
        autoload=False,
        on_approval_required=ask_finance_manager,
        approval_timeout_s=30,
    ) as security:
        result = security.check_tool_call(
            tool_name="query_customer_db", tool_args={"query": "dump all"}, agent_id="analyst", environment="prod"
        )
        print("bulk export:", result.final_decision.outcome.value, result.final_decision.codes)

        result = security.check_tool_call(
            tool_name="trigger_payment", tool_args={"amount": 5000}, agent_id="payments", environment="prod"
        )
        print("payment:", result.final_decision.outcome.value, result.final_decision.codes)

        @security.protect("send_email", agent_id="mailer", environment="prod")
        def send_email(to: str, subject: str) -> str:
            return f"sent to {to}"

        try:
            print("send_email:", send_email("all@company.example", "hello"))
        except SecurityError as exc:
            print("send_email blocked:", exc.codes)

        ks.kill("payments", "incident 42")
        result = security.check_tool_call(
            tool_name="trigger_payment", tool_args={"amount": 1}, agent_id="payments", environment="prod"
        )
        print("after kill:", result.final_decision.codes)


if __name__ == "__main__":
    main()
