"""Importing the adapters imports no framework: the OpenAI Agents SDK, the MCP SDK and jsonschema come with
their extras and are imported only when a guard or the proxy is built."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_adapters_pulls_in_no_framework() -> None:
    code = (
        "import sys\n"
        "import agent_security.adapters, agent_security.adapters.plugin\n"
        "import agent_security.adapters.openai_agents, agent_security.adapters.mcp_proxy\n"
        "import agent_security.adapters.mcp_proxy.cli\n"
        "heavy = {'agents', 'openai', 'mcp', 'mcp_types', 'jsonschema'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
