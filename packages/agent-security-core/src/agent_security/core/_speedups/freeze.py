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
    totals = [0, 0]  # members, characters
    try:
        frozen = _walk(value, 1, bounds, totals)
    except _NotPlain:
        return NOT_PLAIN
    return frozen if totals[1] <= bounds.chars else NOT_PLAIN


def _walk(v: Any, depth: int, bounds: Bounds, totals: list[int]) -> Any:
    """The copy of ``v`` at ``depth``, counting members and characters into ``totals``. A plain function
    (a closure calling itself would be a reference cycle left for the garbage collector on every call)."""
    kind = type(v)
    if kind is str:
        if len(v) > bounds.string:
            raise _NotPlain
        totals[1] += len(v)
        return v
    if v is None or kind is bool:
        return v
    if kind is int:
        if v.bit_length() > bounds.int_bits:
            raise _NotPlain
        return v
    if kind is float:
        if math.isfinite(v):
            return v
        raise _NotPlain
    if depth > bounds.depth:
        raise _NotPlain
    if kind is dict:
        totals[0] += len(v)
        if totals[0] > bounds.items:
            raise _NotPlain
        out: dict[str, Any] = {}
        longest = bounds.string
        for key, child in v.items():
            if type(key) is not str or len(key) > longest:
                raise _NotPlain
            totals[1] += len(key)
            # a string, None or a bool member is copied here, without a call of its own (most are)
            if type(child) is str and len(child) <= longest:
                totals[1] += len(child)
                out[key] = child
            elif child is None or type(child) is bool:
                out[key] = child
            else:
                out[key] = _walk(child, depth + 1, bounds, totals)
        return out
    if kind is list or kind is tuple:
        totals[0] += len(v)
        if totals[0] > bounds.items:
            raise _NotPlain
        return [_walk(child, depth + 1, bounds, totals) for child in v]
    raise _NotPlain
