"""Agent hosts that run a command before and after each tool call: Claude Code, Cursor, GitHub Copilot CLI.

Each host has one module here that turns the host's hook JSON into pipeline checks and the decision back
into the host's documented answer. :mod:`.answer` is what every path returns (and is importable without
the core, so the hook's client can fail closed on its own); :mod:`.registry` finds the host's module.
"""
