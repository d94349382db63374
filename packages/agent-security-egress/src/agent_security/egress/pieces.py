"""Values split across the fields of one argument, and character arrays.

After a container's children are scanned one by one, its direct children are looked at together:

* a list of byte values (``[104, 117, 110, 116, ...]``) or of one-character strings that spells text is
  scanned as that text (decoding ``("chars",)``);
* the short strings of a dict or a list are joined in order and, when a prefilter match spans two of them,
  scanned once more; a finding that spans two or more of them (``{"a": "4111 1111", "b": " 1111 1111"}``,
  a token cut in two) is reported with decoding ``("joined",)``, the container's path and its span in the
  joined text. Findings inside one piece were already reported by the piece's own scan. (A split is seen
  when it falls inside the anchor of the value's shape: anywhere in a card number, inside a token's prefix
  and first characters, around an email's ``@``.)
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agent_security.egress.decoding import mostly_text
from agent_security.egress.redaction import child_path

if TYPE_CHECKING:
    from agent_security.egress.limits import Budget
    from agent_security.egress.scanner import Scanner

__all__ = ["scan_pieces"]

MIN_CHARS = 8
MAX_PIECE = 256
MAX_JOINED = 4096


def scan_pieces(scanner: Scanner, node: Mapping[Any, Any] | Sequence[Any], path: str, budget: Budget) -> None:
    """Scan the children of ``node`` together (see the module docstring)."""
    is_map = type(node) is dict or isinstance(node, Mapping)
    values = list(node.values()) if is_map else list(node)  # type: ignore[union-attr]
    if len(values) < 2 or len(values) > MAX_JOINED:
        return
    if len(values) >= MIN_CHARS and not is_map:
        text = _char_array(values)
        if text is not None:
            _scan(scanner, text, path, budget, ("chars",), None)
            return
    chosen = [i for i, v in enumerate(values) if type(v) is str and 0 < len(v) <= MAX_PIECE]
    if len(chosen) < 2:
        return
    pieces: list[str] = [values[i] for i in chosen]
    joined = "".join(pieces)
    if len(joined) > MAX_JOINED:
        return
    if len(joined) < MIN_CHARS:
        return
    bounds: list[int] = []
    pos = 0
    for p in pieces[:-1]:
        pos += len(p)
        bounds.append(pos)
    if joined.isascii() and not _crosses(scanner, joined.encode(), bounds):
        return  # no anchor spans two pieces: nothing new to find in the joined text
    keys: list[Any] = list(node) if is_map else list(range(len(values)))
    paths = [child_path(path, str(keys[i]) if is_map else i, i) for i in chosen]
    _scan(scanner, joined, path, budget, ("joined",), bounds, paths)


def _crosses(scanner: Scanner, data: bytes, bounds: list[int]) -> bool:
    """Whether a prefilter match in ``data`` spans a boundary between two pieces."""
    span = scanner._prefilter.default.outer.span
    return match_crosses(span, data, bounds, span(data, 0, len(data)))


def match_crosses(
    span: Callable[[bytes, int, int], tuple[int, int] | None],
    data: bytes,
    bounds: list[int],
    m: tuple[int, int] | None,
) -> bool:
    """Whether ``m`` (the first match of ``span`` in ``data``) or a later match spans one of the ``bounds``
    between two pieces; past 64 matches the answer is yes (the scan then decides)."""
    for _ in range(64):
        if m is None:
            return False
        s, e = m
        i = bisect.bisect_right(bounds, s)
        if i < len(bounds) and bounds[i] < e:
            return True
        m = span(data, s + 1, len(data))
    return True  # many matches: let the scan decide


def _char_array(values: list[Any]) -> str | None:
    if all(type(v) is int and 0 <= v < 256 for v in values):
        raw = bytes(values)
        return raw.decode("utf-8") if mostly_text(raw) else None
    if all(type(v) is str and len(v) == 1 for v in values):
        return "".join(values)
    return None


def _scan(
    scanner: Scanner,
    text: str,
    path: str,
    budget: Budget,
    label: tuple[str, ...],
    bounds: list[int] | None,
    piece_paths: list[str] | None = None,
) -> None:
    report = budget.report
    before = len(report.findings)
    seen = {(f.path, f.kind) for f in report.findings[:before]} if piece_paths else set()
    scanner._scan_string(text, path, None, budget)
    new = report.findings[before:]
    if not new:
        return
    del report.findings[before:]
    for f in new:
        s, e = f.span
        if bounds is not None:
            i = bisect.bisect_right(bounds, s)
            if i >= len(bounds) or bounds[i] >= e:
                continue  # inside one piece: reported by that piece's own scan
            last = bisect.bisect_left(bounds, e)
            if piece_paths and any((piece_paths[j], f.kind) in seen for j in range(i, last + 1)):
                continue  # the same kind found in a piece it spans ("a@b.com" + "hello")
        report.findings.append(dataclasses.replace(f, decoding=(*label, *f.decoding)))
