"""``python -m agent_security.adapters.daemon serve [--config PATH] [--idle-timeout S]``: the daemon without
the click CLI (what a hook call starts in the background)."""

from __future__ import annotations

import sys

from agent_security.adapters.daemon.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
