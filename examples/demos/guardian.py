"""The guardian's scenarios (the original's examples/04 and the guardian part of 05), on a fixed clock.

Run it: `python examples/demos/guardian.py` (the same as `agent-security demo guardian`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.guardian.demo import run_demo

raise SystemExit(run_demo())
