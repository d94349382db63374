"""CrewAI tool calls guarded by agent-security's hooks, offline: CrewAI's own native tool executor runs
the calls an agent's LLM would make.

Run: make test-crewai (creates .venv-crewai), then .venv-crewai/bin/python examples/crewai/guarded_tools.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from crewai.tools import BaseTool
from crewai.utilities.agent_utils import convert_tools_to_openai_schema, execute_single_native_tool_call

from agent_security.adapters.crewai import CrewAIGuard
from agent_security.core import AgentSecurity

POLICY = Path(__file__).parents[1] / "policies" / "default-policy.yaml"


class QueryCustomerDb(BaseTool):
    name: str = "query_customer_db"
    description: str = "Query the customer database."

    def _run(self, query: str) -> str:
        return "3 rows"


def run(tools: list[BaseTool], name: str, args: dict[str, Any]) -> str:
    _, functions, _ = convert_tools_to_openai_schema(tools)
    call = SimpleNamespace(id="call-1", function=SimpleNamespace(name=name, arguments=json.dumps(args)))
    result = execute_single_native_tool_call(
        call,
        available_functions=functions,
        original_tools=tools,
        structured_tools=[t.to_structured_tool() for t in tools],
        tools_handler=None,
        agent=None,
        task=None,
        crew=None,
        event_source=object(),
    )
    return str(result.result)


def main() -> None:
    with (
        AgentSecurity(policy_path=POLICY, autoload=False) as security,
        CrewAIGuard(security, agent_id="analyst", environment="dev"),
    ):
        tools: list[BaseTool] = [QueryCustomerDb()]
        lookup = run(tools, "query_customer_db", {"query": "select name from customers where id = 7"})
        export = run(tools, "query_customer_db", {"query": "export all customers"})
    # one write per line: CrewAI's console panels come from its event bus and may be printed meanwhile
    sys.stdout.write(f"lookup: {lookup}\n")
    sys.stdout.write(f"export: {export}\n")


if __name__ == "__main__":
    main()
