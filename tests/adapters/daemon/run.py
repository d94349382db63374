"""``python run.py <agent-security arguments>`` or ``python run.py serve <args>``: the real launcher or daemon, with the
test host of :mod:`hookhost` registered (a subprocess does not see the test's monkeypatching)."""

from __future__ import annotations

import os
import sys

# os.path, not pathlib: the benchmark times this runner, and pathlib costs a hook call milliseconds
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from agent_security.adapters.hooks import registry

registry.HOSTS["test-host"] = "hookhost"

if __name__ == "__main__":
    if sys.argv[1] == "serve":
        from agent_security.adapters.daemon.cli import main

        sys.exit(main(sys.argv[2:]))
    from agent_security.core.launcher import main as launch

    sys.argv = ["agent-security", *sys.argv[1:]]
    launch()
