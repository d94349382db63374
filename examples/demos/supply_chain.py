"""The original's supply-chain demo (examples/03-supply-chain): MCP scans, provenance, command rules.

Run it: `python examples/demos/supply_chain.py` (the same as `agent-security demo supply-chain`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.supply_chain.demo import run_supply_chain_demo

raise SystemExit(run_supply_chain_demo())
