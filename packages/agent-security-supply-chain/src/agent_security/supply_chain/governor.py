"""The command governor's public names at their historical import path (the code lives in :mod:`.commands`)."""

from __future__ import annotations

from agent_security.supply_chain.commands.governor import CommandGovernor
from agent_security.supply_chain.commands.model import CommandAction, CommandCheckResult, CommandRule, PartVerdict
from agent_security.supply_chain.commands.rules import DEFAULT_RULES

__all__ = [
    "DEFAULT_RULES",
    "CommandAction",
    "CommandCheckResult",
    "CommandGovernor",
    "CommandRule",
    "PartVerdict",
]
