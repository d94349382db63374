""":func:`scan_flat`: :meth:`Scanner.scan <agent_security.egress.scanner.Scanner.scan>` of the usual tool
argument, part of the egress speed code (:mod:`agent_security.egress._speedups`).

Most tool arguments are one flat dict with a few short identifier keys and string values, nearly always
clean. For those, each value is encoded and searched by the prefilter directly; a value in which an anchor
matches, one under a key that is context for a detector (``password``, ``ssn``...), or one with non-ASCII
text goes through the scanner's general path, as does any other shape (:data:`NOT_FLAT`, before anything
is scanned). A property test holds the findings equal to the general walk's.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_security.egress.pieces import MAX_JOINED, MAX_PIECE, MIN_CHARS, scan_pieces
from agent_security.egress.redaction import number_text

if TYPE_CHECKING:
    from agent_security.egress.limits import Budget as _Budget
    from agent_security.egress.scanner import Scanner

__all__ = ["nothing_to_find", "scan_flat"]

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
    if _scan_joined(scanner, value, plan, budget):
        return True
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


def _scan_joined(
    scanner: Scanner, value: dict[Any, Any], plan: list[tuple[str, str, str, str]], budget: _Budget
) -> bool:
    """:func:`scan_flat` for values that are all ASCII under keys of the default pass: one search over the
    values joined with :data:`_SEP` (and, when :func:`~agent_security.egress.pieces.scan_pieces` would look
    at them, the joined short strings) finds the first match of each value and whether a match spans two
    pieces; only the values with a match, and the pieces when one spans two, are scanned as
    :func:`scan_flat` scans them. ``False`` (nothing done) when the join cannot stand in for the values.

    A match in the join that ends inside its value is the match the value alone gives: an anchor cannot tell
    the separator from the end of the text (no ``^`` / ``$``, a test holds them to it), so every match of the
    value alone is one in the join, and the join adds only matches that run into the separator; on such a
    match the join is not used."""
    prefilter = scanner._prefilter
    if prefilter.custom is not None or not plan:
        return False
    default = prefilter.default
    contextual = scanner._key_context
    for _, _, _, nkey in plan:
        if nkey in contextual or prefilter.passes_for(nkey) is not default:
            return False
    units = [v for _, v, _, _ in plan]
    n = len(units)
    pieces = [v for v in units if len(v) <= MAX_PIECE]
    joined = "".join(pieces) if len(pieces) >= 2 else ""
    if MIN_CHARS <= len(joined) <= MAX_JOINED:
        units.append(joined)
    whole = _SEP.join(units)
    if not whole.isascii() or budget.scanned + len(whole) > budget.limits.max_total_bytes:
        return False
    data = whole.encode()
    size = len(data)
    starts = []
    pos = 0
    for u in units:
        starts.append(pos)
        pos += len(u) + 1
    outer = default.outer
    span = outer.span
    firsts: list[tuple[int, int, int] | None] = [None] * n
    m = span(data, 0, size)
    while m is not None:
        s, e = m
        i = bisect.bisect_right(starts, s) - 1
        if i >= n:
            break  # in the joined pieces
        a = starts[i]
        if e > a + len(units[i]) or s >= a + len(units[i]):
            return False  # on or across a separator
        firsts[i] = (s - a, e - a, outer.group(data, s, e))
        m = span(data, starts[i + 1], size) if i + 1 < len(units) else None
    crossing = False
    if len(units) > n:
        crossing = _crosses(span, data, starts[n], m, [len(p) for p in pieces[:-1]])
    for (k, v, path, _), first in zip(plan, firsts, strict=True):
        if first is None and budget.scanned + len(v) <= budget.limits.max_total_bytes:
            budget.scanned += len(v)
            budget.layers += 1
        else:
            scanner._scan_string(v, path, k, budget, first)
    if crossing:
        scan_pieces(scanner, value, "$", budget)
    return True


def _crosses(
    span: Callable[[bytes, int, int], tuple[int, int] | None],
    data: bytes,
    start: int,
    m: tuple[int, int] | None,
    lengths: list[int],
) -> bool:
    """Whether a match in ``data[start:]`` (the joined pieces, of ``lengths`` but the last; ``m``: the first
    match, already found) spans two pieces, as the pieces scan decides it."""
    bounds = []
    pos = start
    for n in lengths:
        pos += n
        bounds.append(pos)
    for _ in range(64):
        if m is None:
            return False
        s, e = m
        i = bisect.bisect_right(bounds, s)
        if i < len(bounds) and bounds[i] < e:
            return True
        m = span(data, s + 1, len(data))
    return True


_SEP = "\x00"
"""Joins the units of :func:`nothing_to_find`: a byte no word character is, so ``\\b`` sees the same edges
inside the join as at the ends of each unit (no built-in anchor asserts ``^`` or ``$``; a test holds them
to it)."""


def nothing_to_find(scanner: Scanner, args: Any, text: str | None = None) -> bool:
    """Whether scanning ``args`` (and the string ``text``, scanned on its own) is sure to find nothing and to
    stop at no limit, decided by one search of the default pass; ``False`` when not sure (the caller scans).

    Only a flat dict as :func:`scan_flat` takes it (short identifier keys under no context key, ``str``,
    numbers, ``bool`` and ``None`` values, ASCII text) and the built-in classifiers are decided here. Its
    strings, the digits of its numbers and ``text`` are joined with :data:`_SEP`, followed by the joined
    short strings :func:`~agent_security.egress.pieces.scan_pieces` would look at: an anchor that matches
    in a unit alone, or across two pieces, matches in the join too, so no match there means no detector
    and no decoder would wake anywhere."""
    prefilter = scanner._prefilter
    if prefilter.custom is not None or type(args) is not dict or len(args) > _MAX_ITEMS:
        return False
    limits = scanner.limits
    if 1 + len(args) > limits.max_nodes or limits.max_depth < 1:
        return False
    default = prefilter.default
    contextual = scanner._key_context
    units: list[str] = []
    pieces: list[str] = []
    for k, v in args.items():
        if type(k) is not str:
            return False
        info = _key_info(k)
        if info is None or info[1] in contextual or prefilter.passes_for(info[1]) is not default:
            return False
        kind = type(v)
        if kind is str:
            if v:
                units.append(v)
                if len(v) <= MAX_PIECE:
                    pieces.append(v)
        elif kind is int or kind is float:
            digits = number_text(v)
            if digits is None or len(digits) > limits.max_int_digits:
                return False
            if digits:
                units.append(digits)
        elif v is not None and kind is not bool:
            return False
    if text:
        if type(text) is not str:
            return False
        units.append(text)
    if len(pieces) >= 2:
        joined = "".join(pieces)
        if len(joined) <= MAX_JOINED:  # a longer join is not scanned
            units.append(joined)
    if not units:
        return True
    whole = _SEP.join(units)
    if not whole.isascii() or len(whole) > limits.max_total_bytes:
        return False
    data = whole.encode()
    return default.outer.span(data, 0, len(data)) is None
