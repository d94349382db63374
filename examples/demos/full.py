"""The original's full demo (examples/05-full-spm): every distribution in one pipeline, then the posture.

Run it: `python examples/demos/full.py` (the same as `agent-security demo full`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.posture.demos.full import run_full_demo

raise SystemExit(run_full_demo())
