"""The original's egress demo (examples/02-egress-dlp): PII, card numbers and secrets leaving through tools,
then this issue's harder cases (encoded, split and obfuscated payloads) and the compliance report.

Run it: `python examples/demos/egress.py` (the same as `agent-security demo egress`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.egress.demo import run_demo

raise SystemExit(run_demo())
