"""The original's core demo (demo.ts, 9 scenarios) on its default policy, the bypasses we close, the audit trail.

Run it: `python examples/demos/core.py` (the same as `agent-security demo core`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.core.demo import run_demo

raise SystemExit(run_demo())
