"""Evasion-resistant normalisation with an offset map back to the original string.

Applied before classification: NFKC (folds fullwidth and other compatibility forms), invisible
characters removed (zero-width spaces and joiners, soft hyphen, BOM, bidi controls, variation
selectors, tag characters, combining marks), decimal digits of every script folded to ASCII,
look-alike dashes, spaces, dots and at-signs folded to ASCII. (The email obfuscations ``[at]`` / ``(dot)``
are a decoder of the scanner: :mod:`agent_security.egress.decoding`.)

ASCII text is returned as is, at the cost of one ``str.isascii()`` call.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["OffsetMap", "normalize"]

_INVISIBLE = {
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180E, 0x180F,
    0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2061,
    0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0x206A, 0x206B, 0x206C, 0x206D, 0x206E,
    0x206F, 0x3164, 0xFEFF, 0xFFA0,
    *range(0xFE00, 0xFE10), *range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0),
}  # fmt: skip
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2796\ufe58\ufe63\uff0d\u02d7\u2e3a\u2e3b"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DOTS = "\u2024\u2027\u00b7\u2219\u22c5\u30fb\uff0e\u3002\uff61\u0701\u0702"
_ATS = "\ufe6b\uff20"
_FOLD = {
    **dict.fromkeys(map(ord, _DASHES), "-"),
    **dict.fromkeys(map(ord, _SPACES), " "),
    **dict.fromkeys(map(ord, _DOTS), "."),
    **dict.fromkeys(map(ord, _ATS), "@"),
    **dict.fromkeys(_INVISIBLE, ""),
}

_PER_CHAR_RUN = 64
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


@dataclass
class OffsetMap:
    """Maps offsets in the normalised string back to offsets in the original one.

    Stored as the list of rewritten segments ``(norm_start, norm_end, orig_start, orig_end)``; outside
    them the two strings advance together.
    """

    segments: list[tuple[int, int, int, int]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    def add(self, ns: int, ne: int, os_: int, oe: int) -> None:
        self.segments.append((ns, ne, os_, oe))
        self._starts.append(ns)

    @property
    def identity(self) -> bool:
        return not self.segments

    def to_original(self, pos: int, *, end: bool = False) -> int:
        if not self.segments:
            return pos
        # an end offset belongs to the segment before it; a start offset to the one it begins
        i = (bisect.bisect_left(self._starts, pos) if end else bisect.bisect_right(self._starts, pos)) - 1
        if i < 0:
            return pos
        _, ne, os_, oe = self.segments[i]
        if pos < ne or (end and pos == ne):
            # inside a rewritten segment: snap to its boundary
            return oe if end else os_
        return oe + (pos - ne)

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.to_original(start), self.to_original(end, end=True)


class _FoldTable(dict[int, "str | int"]):
    """``_FOLD`` plus, computed on first sight of a character: decimal digits of every script to ASCII
    (``٤١١١`` is ``4111`` to ``int()`` and to whoever receives it) and combining marks removed (a card
    number with U+0301 after each digit is still the card number)."""

    def __missing__(self, cp: int) -> str | int:
        ch = chr(cp)
        cat = unicodedata.category(ch)
        rep: str | int = cp
        if cat == "Nd":
            rep = str(unicodedata.decimal(ch))
        elif cat == "Mn":
            rep = ""
        if len(self) < 65_536:
            self[cp] = rep
        return rep


_FOLD_ALL = _FoldTable(_FOLD)


def _fold_run(run: str) -> str:
    return unicodedata.normalize("NFKC", run.translate(_FOLD_ALL)).translate(_FOLD)


def normalize(text: str) -> tuple[str, OffsetMap]:
    """Return the normalised text and the map of its offsets back to ``text``."""
    omap = OffsetMap()
    if text.isascii():
        return text, omap
    out: list[str] = []
    pos = 0  # in original
    npos = 0  # in output
    for m in _NON_ASCII_RUN.finditer(text):
        s, e = m.span()
        if s > pos:
            out.append(text[pos:s])
            npos += s - pos
        run = m.group(0)
        rep = _fold_run(run)
        if rep != run and len(run) <= _PER_CHAR_RUN:
            # short runs (a fullwidth number, a zero-width joiner) map character by character, so a
            # finding that starts or ends inside the run gets an exact span
            for i, ch in enumerate(run):
                r = _fold_run(ch)
                if r != ch:
                    omap.add(npos, npos + len(r), s + i, s + i + 1)
                out.append(r)
                npos += len(r)
            pos = e
            continue
        if rep != run:
            omap.add(npos, npos + len(rep), s, e)
        out.append(rep)
        npos += len(rep)
        pos = e
    if pos < len(text):
        out.append(text[pos:])
    return "".join(out), omap
