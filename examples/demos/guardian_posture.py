"""The original's guardian-posture demo (examples/04): guardian incidents, risk scores, a compliance summary.

Run it: `python examples/demos/guardian_posture.py` (the same as `agent-security demo guardian-posture`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.posture.demos.guardian_posture import run_guardian_posture_demo

raise SystemExit(run_guardian_posture_demo())
