"""The original's quick demo (test-demo.ts, 5 scenarios), our outcome beside the original's.

Run it: `python examples/demos/quick.py` (the same as `agent-security demo quick`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.core.demos.quick import run_quick_demo

raise SystemExit(run_quick_demo())
