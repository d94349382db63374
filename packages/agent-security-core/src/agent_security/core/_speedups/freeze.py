""":func:`freeze_plain`: :func:`agent_security.core.arguments.freeze_json` of plain JSON data, part of the
core's speed code (:mod:`agent_security.core._speedups`).

Tool arguments, plugin annotations and audit data are nearly always plain: exact ``dict`` objects with
``str`` keys, ``list`` and ``tuple``, ``str``, ``int``, finite ``float``, ``bool`` and ``None``. For those,
the copy is a plain recursive walk within the same bounds. Anything else (a subclass, a set, a mapping
that is not a ``dict``, bytes, a non-finite float, a bound reached) answers :data:`NOT_PLAIN`, and the
general walk of :mod:`~agent_security.core.arguments` copies it or raises its precise error. A property
test holds the two equal.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["NOT_PLAIN", "Bounds", "freeze_plain"]

NOT_PLAIN: Any = object()
"""What :func:`freeze_plain` answers for data it does not copy."""


class Bounds(NamedTuple):
    """The bounds of :func:`~agent_security.core.arguments.freeze_json`."""

    depth: int
    items: int
    string: int
    chars: int
    int_bits: int


class _NotPlain(Exception):
    pass


def freeze_plain(value: Any, bounds: Bounds) -> Any:
    """A copy of ``value`` as ``freeze_json`` makes it (tuples become lists), or :data:`NOT_PLAIN`."""
    max_depth, max_items, max_string, max_chars, max_bits = bounds
    totals = [0, 0]  # members, characters

    def walk(v: Any, depth: int) -> Any:
        kind = type(v)
        if kind is str:
            if len(v) > max_string:
                raise _NotPlain
            totals[1] += len(v)
            return v
        if v is None or kind is bool:
            return v
        if kind is int:
            if v.bit_length() > max_bits:
                raise _NotPlain
            return v
        if kind is float:
            if math.isfinite(v):
                return v
            raise _NotPlain
        if depth > max_depth:
            raise _NotPlain
        if kind is dict:
            totals[0] += len(v)
            if totals[0] > max_items:
                raise _NotPlain
            out: dict[str, Any] = {}
            for key, child in v.items():
                if type(key) is not str or len(key) > max_string:
                    raise _NotPlain
                totals[1] += len(key)
                out[key] = walk(child, depth + 1)
            return out
        if kind is list or kind is tuple:
            totals[0] += len(v)
            if totals[0] > max_items:
                raise _NotPlain
            return [walk(child, depth + 1) for child in v]
        raise _NotPlain

    try:
        frozen = walk(value, 1)
    except _NotPlain:
        return NOT_PLAIN
    return frozen if totals[1] <= max_chars else NOT_PLAIN
