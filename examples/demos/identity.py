"""The original's identity demo (examples/01-identity-authz): registered agents, trust, roles, tickets.

Run it: `python examples/demos/identity.py` (the same as `agent-security demo identity`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.identity.demo import run_demo

raise SystemExit(run_demo())
