"""redis-py is an optional extra: nothing imports it until a Redis URL is opened, and without it the
configuration error names the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_no_redis_import_without_a_redis_url() -> None:
    out = _run(
        """
        import sys
        from agent_security.core import AgentSecurity
        from agent_security.core.store import open_store
        AgentSecurity().check_tool_call(tool_name="t")
        open_store("memory://")
        print("redis" in sys.modules)
        """
    )
    assert out == "False"


def test_a_redis_url_without_redis_py_names_the_extra() -> None:
    out = _run(
        """
        import sys
        sys.modules["redis"] = None  # as if redis-py were not installed
        from agent_security.core.errors import ConfigurationError
        from agent_security.core.store import open_store
        try:
            open_store("redis://:pw@localhost:6379/0")
        except ConfigurationError as exc:
            print(exc)
        """
    )
    assert "agent-security-core[redis]" in out and ":pw@" not in out
