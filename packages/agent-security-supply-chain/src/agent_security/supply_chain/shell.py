"""The shell parser's public names at their historical import path (the code lives in :mod:`.commands.shell`
and :mod:`.commands.words`)."""

from __future__ import annotations

from agent_security.supply_chain.commands.shell import _Parser, parse_command_line
from agent_security.supply_chain.commands.words import (
    MAX_BRACES_PER_WORD,
    MAX_COMMAND_LENGTH,
    MAX_DEPTH,
    MAX_PARTS,
    Redirect,
    ShellParseError,
    SimpleCommand,
    Word,
)

__all__ = [
    "MAX_BRACES_PER_WORD",
    "MAX_COMMAND_LENGTH",
    "MAX_DEPTH",
    "MAX_PARTS",
    "Redirect",
    "ShellParseError",
    "SimpleCommand",
    "Word",
    "_Parser",
    "parse_command_line",
]
