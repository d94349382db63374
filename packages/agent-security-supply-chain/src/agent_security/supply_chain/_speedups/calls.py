""":func:`carries_no_command`: the usual tool call's answer to
:func:`agent_security.supply_chain.commands.calls.commands_in_args`, part of the supply-chain speed code
(:mod:`agent_security.supply_chain._speedups`).

Most calls are one flat dict of scalar values under names that hold no command, no code and no language
(``path``, ``query``, ``limit``): for those the walk finds nothing, and the names alone say so. Any other
shape, or any name the walk would look at, answers ``False`` and the walk runs. A property test holds the
two equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["carries_no_command"]

_SCALARS = frozenset({str, int, float, bool, type(None)})


def carries_no_command(
    args: Any, looked_at: frozenset[str], extra: frozenset[str], key: Callable[[str], str], max_values: int
) -> bool:
    """Whether ``args`` is a flat dict (at most ``max_values`` items) of scalars under names that, as ``key``
    gives them, are in neither ``looked_at`` nor ``extra``."""
    if type(args) is not dict or len(args) > max_values:
        return False
    for name, value in args.items():
        if type(name) is not str or type(value) not in _SCALARS:
            return False
        k = key(name)
        if k in looked_at or k in extra:
            return False
    return True
