"""``run_adapters_demo``: every available host's sample calls answered by the real pipeline."""

from __future__ import annotations

from agent_security.adapters.demo import run_adapters_demo


def test_demo_table_lists_hosts_and_decisions() -> None:
    lines: list[str] = []
    assert run_adapters_demo(lines.append) == 0
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith(("cursor ", "copilot ", "claude-code "))]
    assert any(r.startswith("cursor") and "beforeShellExecution" in r and " ask " in r for r in rows)
    assert any(r.startswith("cursor") and "DENY_PROD_DEPLOY" in r for r in rows)
    assert any(r.startswith("cursor") and ".env" in r and " deny " in r for r in rows)
    assert any(r.startswith("copilot") and "COMMAND_BLOCKED" in r for r in rows)
    assert any("BLOCK (exit 2)" in r for r in rows)
    assert "hosts run: " in text and "cursor" in text.split("hosts run: ")[1]


def test_agent_security_demo_adapters_on_the_command_line() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "agent-security"
    done = subprocess.run([str(script), "demo", "adapters"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "hosts run: claude-code, cursor, copilot" in done.stdout
    assert "COMMAND_BLOCKED" in done.stdout
