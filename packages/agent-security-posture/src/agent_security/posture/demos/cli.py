"""The ``demo`` subcommands of agent-security-posture, added only when the distributions they run are
installed (``pip install 'agent-security-posture[demos]'`` brings them all)."""

from __future__ import annotations

import importlib.util

import click

__all__ = ["FULL_NEEDS", "GUARDIAN_POSTURE_NEEDS", "add_demo_commands", "demo_full", "demo_guardian_posture"]

GUARDIAN_POSTURE_NEEDS = ("agent_security.guardian", "agent_security.identity")
FULL_NEEDS = (
    "agent_security.guardian",
    "agent_security.identity",
    "agent_security.egress",
    "agent_security.supply_chain",
    "agent_security.containment",
)


def _have(modules: tuple[str, ...]) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


@click.command("guardian-posture")
def demo_guardian_posture() -> None:
    """The original's guardian-posture demo: guardian incidents, then risk scores and a compliance summary
    from the demo's audit trail."""
    from agent_security.posture.demos.guardian_posture import run_guardian_posture_demo

    raise SystemExit(run_guardian_posture_demo())


@click.command("full")
def demo_full() -> None:
    """The original's full demo: every distribution in one pipeline, its nine scenarios, then the posture report."""
    from agent_security.posture.demos.full import run_full_demo

    raise SystemExit(run_full_demo())


def add_demo_commands(group: click.Group) -> None:
    if _have(GUARDIAN_POSTURE_NEEDS):
        group.add_command(demo_guardian_posture, "guardian-posture")
    if _have(FULL_NEEDS):
        group.add_command(demo_full, "full")
