"""Two AgentSecurity instances sharing a kill and a rate limit through a real Redis (needs redis-server).

Run it: `python examples/demos/fleet.py` (the same as `agent-security demo fleet`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.core.demos.fleet import run_fleet_demo

raise SystemExit(run_fleet_demo())
