"""The ``agent-security demo adapters`` command (added to the core's ``demo`` group by :mod:`.plugin`)."""

from __future__ import annotations

import click

__all__ = ["demo_adapters"]


@click.command("adapters")
def demo_adapters() -> None:
    """Sample calls from Claude Code, Cursor and the Copilot CLI, answered by the real pipeline."""
    from agent_security.adapters.demo import run_adapters_demo

    raise SystemExit(run_adapters_demo())
