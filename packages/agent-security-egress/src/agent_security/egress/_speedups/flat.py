""":func:`scan_flat`: :meth:`Scanner.scan <agent_security.egress.scanner.Scanner.scan>` of the usual tool
argument, part of the egress speed code (:mod:`agent_security.egress._speedups`).

Most tool arguments are one flat dict with a few short identifier keys and string values, nearly always
clean. For those, each value is encoded and searched by the prefilter directly; a value in which an anchor
matches, one under a key that is context for a detector (``password``, ``ssn``...), or one with non-ASCII
text goes through the scanner's general path, as does any other shape (:data:`NOT_FLAT`, before anything
is scanned). A property test holds the findings equal to the general walk's.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from agent_security.egress.pieces import scan_pieces

if TYPE_CHECKING:
    from agent_security.egress.limits import Budget as _Budget
    from agent_security.egress.scanner import Scanner

__all__ = ["scan_flat"]

_FLAT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,13}")
_MAX_ITEMS = 64


@functools.lru_cache(maxsize=4096)
def _key_info(key: str) -> tuple[str, str] | None:
    """``(path suffix, normalised key)`` for a key short enough to hold no finding, else ``None``."""
    if not _FLAT_KEY.fullmatch(key):
        return None
    from agent_security.egress.scanner import _norm_key

    return "$." + key, _norm_key(key)


def scan_flat(scanner: Scanner, value: dict[Any, Any], budget: _Budget) -> bool:
    """Scan ``value`` (an exact ``dict``) into ``budget``'s report; ``False`` (nothing scanned) when it is
    not a flat dict of short identifier keys and ``str`` / ``bool`` / ``None`` values."""
    if len(value) > _MAX_ITEMS:
        return False
    plan: list[tuple[str, str, str, str]] = []
    for k, v in value.items():
        if type(k) is not str:
            return False
        info = _key_info(k)
        if info is None:
            return False
        if type(v) is str:
            if v:
                plan.append((k, v, *info))
        elif v is not None and type(v) is not bool:
            return False
    limits = budget.limits
    if 1 + len(value) > limits.max_nodes or limits.max_depth < 1:
        return False
    budget.nodes += 1 + len(value)
    prefilter = scanner._prefilter
    general = prefilter.custom is not None
    contextual = scanner._key_context
    for k, v, path, nkey in plan:
        if general or nkey in contextual or not v.isascii():
            scanner._scan_string(v, path, k, budget)
            continue
        data = v.encode()
        if budget.scanned + len(data) > limits.max_total_bytes:
            scanner._scan_string(v, path, k, budget)  # reports the limit
            continue
        first = prefilter.passes_for(nkey).outer.search(data, 0, len(data))
        if first is None:
            budget.scanned += len(data)
            budget.layers += 1
            continue
        scanner._scan_string(v, path, k, budget, first)
    if len(plan) >= 2:
        scan_pieces(scanner, value, "$", budget)
    return True
