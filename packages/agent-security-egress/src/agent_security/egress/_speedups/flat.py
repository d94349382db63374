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
import itertools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_security.egress.pieces import MAX_JOINED, MAX_PIECE, MIN_CHARS, match_crosses, scan_pieces
from agent_security.egress.redaction import number_text

if TYPE_CHECKING:
    from agent_security.egress.limits import Budget as _Budget
    from agent_security.egress.limits import ScanLimits
    from agent_security.egress.scanner import Scanner

__all__ = ["nothing_to_find", "scan_flat"]

_FLAT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,13}")
_MAX_ITEMS = 64
_MAX_REMEMBERED = 4096
"""Longest text whose gate search the scan after it reuses (see ``Prefilter.last_gate``)."""


@functools.lru_cache(maxsize=4096)
def _key_info(key: str) -> tuple[str, str] | None:
    """``(path suffix, normalised key)`` for a key short enough to hold no finding, else ``None``."""
    if not _FLAT_KEY.fullmatch(key):
        return None
    from agent_security.egress.scanner import _norm_key

    return "$." + key, _norm_key(key)


_Shape = tuple[tuple[str, ...], tuple[str, ...], bool]
_NOT_FLAT: _Shape = ((), (), False)


def _shape(scanner: Scanner, keys: tuple[Any, ...]) -> _Shape:
    """The paths and normalised keys of ``keys``, and whether their values can be searched joined (no key
    is context for a detector or selects a pass of its own); :data:`_NOT_FLAT` when a key is not a short
    identifier. Remembered per tuple of keys (the values' types are checked on every call)."""
    shapes = scanner._prefilter.shapes
    got = shapes.get(keys)
    if got is None:
        got = _NOT_FLAT
        infos = [_key_info(k) if type(k) is str else None for k in keys]
        if None not in infos:
            prefilter = scanner._prefilter
            contextual = scanner._key_context
            joinable = prefilter.custom is None and all(
                not contextual[info[1]] and prefilter.passes_for(info[1]) is prefilter.default
                for info in infos
                if info is not None
            )
            got = (
                tuple(info[0] for info in infos if info is not None),
                tuple(info[1] for info in infos if info is not None),
                joinable,
            )
        if len(shapes) >= 4096:
            shapes.clear()
        shapes[keys] = got
    return got


def _flat_values(value: dict[Any, Any], limits: ScanLimits) -> tuple[list[str], list[int], list[str]] | None:
    """The texts of a flat dict's values (its non-empty strings, the digits of its numbers) with the
    position of each among the values, and the strings :func:`scan_pieces` would join; ``None`` when a
    key is not a ``str`` or a value is not a string, number, ``bool`` or ``None``."""
    texts: list[str] = []
    where: list[int] = []
    pieces: list[str] = []
    for i, (k, v) in enumerate(value.items()):
        if type(k) is not str:
            return None
        kind = type(v)
        if kind is str:
            if v:
                texts.append(v)
                where.append(i)
                if len(v) <= MAX_PIECE:
                    pieces.append(v)
        elif kind is int or kind is float:
            digits = number_text(v)
            if digits is None or len(digits) > limits.max_int_digits:
                return None
            if digits:
                texts.append(digits)
                where.append(i)
        elif v is not None and kind is not bool:
            return None
    return texts, where, pieces


def _stops_walk(limits_hit: list[str]) -> bool:
    """Whether the general walk visits no further value after these limits."""
    return "max_total_bytes" in limits_hit or "max_nodes" in limits_hit


def scan_flat(scanner: Scanner, value: dict[Any, Any], budget: _Budget) -> bool:
    """Scan ``value`` (an exact ``dict``) into ``budget``'s report; ``False`` (nothing scanned) when it is
    not a flat dict of short identifier keys and ``str`` / number / ``bool`` / ``None`` values."""
    if len(value) > _MAX_ITEMS:
        return False
    keys = tuple(value)
    paths, nkeys, joinable = scanner._prefilter.shapes.get(keys) or _shape(scanner, keys)
    if not paths and keys:
        return False
    limits = budget.limits
    found = _flat_values(value, limits)
    if found is None:
        return False
    texts, where, pieces = found
    if 1 + len(value) > limits.max_nodes or limits.max_depth < 1:
        return False
    budget.nodes += 1 + len(value)
    if joinable and texts and _scan_joined(scanner, value, keys, paths, texts, where, pieces, budget):
        return True
    prefilter = scanner._prefilter
    general = prefilter.custom is not None
    contextual = scanner._key_context
    report = budget.report
    for v, i in zip(texts, where, strict=True):
        if not report.complete and _stops_walk(report.limits_hit):
            break
        k, path, nkey = keys[i], paths[i], nkeys[i]
        if general or contextual[nkey] or not v.isascii():
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
    if len(pieces) >= 2:
        scan_pieces(scanner, value, "$", budget)
    return True


def _scan_joined(
    scanner: Scanner,
    value: dict[Any, Any],
    keys: tuple[str, ...],
    paths: tuple[str, ...],
    texts: list[str],
    where: list[int],
    pieces: list[str],
    budget: _Budget,
) -> bool:
    """:func:`scan_flat` for values that are all ASCII under keys of the default pass: one search over the
    values joined with :data:`_SEP` (and, when :func:`~agent_security.egress.pieces.scan_pieces` would look
    at them, the joined ``pieces``) finds the first match of each value and whether a match spans two
    pieces; only the values with a match, and the pieces when one spans two, are scanned as
    :func:`scan_flat` scans them. ``False`` (nothing done) when the join cannot stand in for the values.

    A match in the join that ends inside its value is the match the value alone gives: an anchor cannot tell
    the separator from the end of the text (no ``^`` / ``$``, a test holds them to it), so every match of the
    value alone is one in the join, and the join adds only matches that run into the separator; on such a
    match the join is not used."""
    n = len(texts)
    joined = "".join(pieces) if len(pieces) >= 2 else ""
    if MIN_CHARS <= len(joined) <= MAX_JOINED:
        whole = _SEP.join([*texts, joined])
    else:
        joined = ""
        whole = _SEP.join(texts)
    limits = budget.limits
    if not whole.isascii() or budget.scanned + len(whole) > limits.max_total_bytes:
        return False
    if whole.count(_SEP) != n - (not joined):
        return False  # a value holds the separator itself
    data = whole.encode()
    size = len(data)
    outer = scanner._prefilter.default.outer
    span = outer.span
    firsts: list[tuple[int, int, int] | None] = [None] * n
    gated, m = scanner._prefilter.last_gate
    if gated != data:
        m = span(data, 0, size)
    while m is not None:
        s, e = m
        i = data.count(_SEP_BYTE, 0, s)
        if i >= n:
            break  # in the joined pieces
        end = data.find(_SEP_BYTE, s)
        if end < 0:
            end = size
        if e > end or s >= end:
            return False  # on or across a separator
        start = data.rfind(_SEP_BYTE, 0, s) + 1
        firsts[i] = (s - start, e - start, outer.group(data, s, e))
        m = span(data, end + 1, size) if end < size else None
    crossing = bool(joined) and _crosses(span, data, size - len(joined), m, pieces)
    report = budget.report
    for i, first in enumerate(firsts):
        if not report.complete and _stops_walk(report.limits_hit):
            break
        v = texts[i]
        if first is None and budget.scanned + len(v) <= limits.max_total_bytes:
            budget.scanned += len(v)
            budget.layers += 1
        else:
            j = where[i]
            scanner._scan_string(v, paths[j], keys[j], budget, first)
    if crossing:
        scan_pieces(scanner, value, "$", budget)
    return True


def _crosses(
    span: Callable[[bytes, int, int], tuple[int, int] | None],
    data: bytes,
    start: int,
    m: tuple[int, int] | None,
    pieces: list[str],
) -> bool:
    """Whether a match in ``data[start:]`` (the joined ``pieces``; ``m``: its first match, already found)
    spans two pieces, as the pieces scan decides it."""
    if m is None:
        return False
    bounds = list(itertools.accumulate((len(p) for p in pieces[:-1]), initial=start))[1:]
    return match_crosses(span, data, bounds, m)


_SEP = "\x00"
"""Joins the units of :func:`nothing_to_find`: a byte no word character is, so ``\\b`` sees the same edges
inside the join as at the ends of each unit (no built-in anchor asserts ``^`` or ``$``; a test holds them
to it)."""
_SEP_BYTE = _SEP.encode()


def nothing_to_find(scanner: Scanner, args: Any, text: str | None = None) -> bool:
    """Whether scanning ``args`` (and the string ``text``, scanned on its own) is sure to find nothing and to
    stop at no limit, decided by one search of the default pass; ``False`` when not sure (the caller scans).

    Only a flat dict as :func:`scan_flat` takes it (short identifier keys under no context key, ``str``,
    numbers, ``bool`` and ``None`` values, ASCII text) and the built-in classifiers are decided here. Its
    strings, the digits of its numbers and ``text`` are joined with :data:`_SEP`, followed by the joined
    short strings :func:`~agent_security.egress.pieces.scan_pieces` would look at: an anchor that matches
    in a unit alone, or across two pieces, matches in the join too, so no match there means no detector
    and no decoder would wake anywhere."""
    if type(args) is not dict or len(args) > _MAX_ITEMS:
        return False
    limits = scanner.limits
    if 1 + len(args) > limits.max_nodes or limits.max_depth < 1:
        return False
    keys = tuple(args)
    if not (scanner._prefilter.shapes.get(keys) or _shape(scanner, keys))[2]:
        return False  # a key that is not flat, is context for a detector or has a pass of its own
    found = _flat_values(args, limits)
    if found is None:
        return False
    units, _, pieces = found
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
    prefilter = scanner._prefilter
    m = prefilter.default.outer.span(data, 0, len(data))
    if m is not None and len(data) <= _MAX_REMEMBERED:
        prefilter.last_gate = (data, m)
    return m is None
