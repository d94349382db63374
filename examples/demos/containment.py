"""Per-tool sandboxes and change tickets checked before a tool runs, beside the original's outcomes.

Run it: `python examples/demos/containment.py` (the same as `agent-security demo containment`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.containment.demo import run_demo

raise SystemExit(run_demo())
