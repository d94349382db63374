"""The containment example: agent-security.toml's profiles and change control on a few tool calls,
then a command in the process sandbox.

Run from the repository root: ``python examples/containment/run.py``. The ticket system is a local
server speaking Jira's REST JSON (``agent_security.containment.testing``), so nothing leaves the machine.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from agent_security.containment import SandboxManager, SandboxUnavailable
from agent_security.containment.testing import jira_issue, ticket_server
from agent_security.core import AgentSecurity

HERE = Path(__file__).resolve().parent
TICKETS = {
    "OPS-7": jira_issue("OPS-7", "Approved", "db_migrate orders schema v42 in prod", duedate="2099-12-31"),
    "OPS-8": jira_issue("OPS-8", "Approved", "db_migrate orders schema v42 in staging", duedate="2099-12-31"),
}
CALLS = [
    ("read_file", {"path": "/srv/reports/q2.csv"}),
    ("read_file", {"path": "/srv/reports/../../etc/shadow"}),
    ("read_file", {"path": "/srv/reports/payroll/june.csv"}),
    ("write_file", {"path": "/srv/summaries/q2.md", "content": "# Q2"}),
    ("write_file", {"path": "/srv/reports/q2.csv", "content": "overwritten"}),
    ("fetch_url", {"url": "https://api.example.com/v1/orders"}),
    ("fetch_url", {"url": "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data/"}),
    ("db_migrate", {"schema": "v42"}),
    ("db_migrate", {"schema": "v42", "ticket_id": "OPS-7"}),
    ("db_migrate", {"schema": "v42", "ticket_id": "OPS-8"}),
]

config = tomllib.loads((HERE / "agent-security.toml").read_text())
with ticket_server(TICKETS) as jira:
    config["containment"]["change_control"]["base_url"] = jira.url
    os.environ.setdefault("JIRA_TOKEN", "example-token")
    security = AgentSecurity(config=config, policy_path=HERE / "policy.json")
    for tool, args in CALLS:
        result = security.check_tool_call(tool_name=tool, tool_args=args, agent_id="ops-bot", environment="prod")
        decision = result.final_decision
        print(f"{decision.outcome.value:<6} {tool:<10} {decision.codes[-1]:<20} {decision.reasons[-1].message[:80]}")
    security.shutdown()

profile = SandboxManager()
profile.register_sandbox("run_report", config["containment"]["sandboxes"]["run_report"])
try:
    result = profile.run("ls /; test -e /home || echo 'no /home'; env", "run_report")
    print("sandboxed run:", " ".join(result.stdout.split()))
except SandboxUnavailable as exc:
    print("no process sandbox here:", exc)
