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

from agent_security.egress.pieces import MAX_JOINED, MAX_PIECE, scan_pieces
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
