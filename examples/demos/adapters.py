"""Host hooks (Claude Code, Cursor, Copilot CLI) answering sample payloads through the real pipeline.

Run it: `python examples/demos/adapters.py` (the same as `agent-security demo adapters`).
Exit status 0 when every outcome is the documented one.
"""

from agent_security.adapters.demo import run_adapters_demo

raise SystemExit(run_adapters_demo())
