"""The *folded* reading of text: what a reader sees, whatever code points spell it.

Keyword conditions and the tool names of DENY and approval-like rules are also compared in this form
(see ``docs/policies.md``, "Confusables"). :func:`fold_text` applies, in order:

1. characters that render as a blank (the braille blank U+2800, the Hangul fillers) become a space;
2. the invisible characters of :mod:`agent_security.core.normalize` are removed and NFKC applied;
3. combining marks (categories ``Mn`` and ``Me``, after NFD) are removed, so ``e\\u0301xport`` and
   ``ëxport`` read ``export``;
4. every *non-ASCII* character is replaced by its confusable prototype from Unicode's confusables
   table (UTS #39, as shipped by the ``confusable-homoglyphs`` package), and a Latin small capital by
   its letter: Cyrillic ``\\u0455`` reads ``s``, ``\\u1d07`` reads ``e``, mathematical ``\\U0001d41e``
   reads ``e``;
5. :func:`~agent_security.core.normalize.normalize_text` (case folding, whitespace collapsed).

ASCII characters are their own prototype here (UTS #39 would also equate ``m`` with ``rn``, ``l``
with ``1`` and ``d`` with ``cl``): plain ASCII text reads as written, so a rule on ``clear`` does not
meet ``dear``. Text that is all ASCII folds exactly as :func:`normalize_text` does.

The table is built on first use of non-ASCII text (about 0.1 s) and kept for the process.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

from agent_security.core.normalize import normalize_text, strip_invisible

__all__ = ["BLANKS", "fold_name", "fold_text", "prototype_table"]

BLANKS = "\u115f\u1160\u2800\u3164\uffa0"
"""Characters that are not whitespace to Unicode but render as a blank: the Hangul fillers and the
braille pattern blank. They read as a space."""

_MARK_CATEGORIES = frozenset({"Mn", "Me"})
_lock = threading.Lock()
_table: dict[int, str] | None = None


def _prototypes() -> dict[str, str]:
    """The confusable prototype of each non-ASCII character that has one, from the package's table.

    The package stores confusables.txt as an undirected graph (each source lists its prototype and each
    prototype its sources), so the direction is recovered: a sequence of several characters, and a
    character with several confusables, are prototypes; a character whose only confusable is a
    prototype maps to it. Two characters confusable only with each other form a class of two, whose
    representative is the ASCII one, or else the lower code point (any fixed choice equates the same
    pairs).
    """
    from confusable_homoglyphs import utils  # a dependency of agent-security-core; loaded lazily

    data: dict[str, list[dict[str, Any]]] = utils.load("confusables.json")
    out: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii() or len(entries) != 1:
            continue
        other = str(entries[0]["c"])
        if (
            len(other) > 1
            or len(data.get(other, ())) > 1
            or (other.isascii(), -ord(other)) > (char.isascii(), -ord(char))
        ):
            out[char] = other
    return out


def _small_capital(char: str) -> str | None:
    name = unicodedata.name(char, "")
    for prefix in ("LATIN LETTER SMALL CAPITAL ", "MODIFIER LETTER SMALL CAPITAL "):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if len(rest) == 1 and rest.isalpha():
                return rest.lower()
    return None


def prototype_table() -> dict[int, str]:
    """The ``str.translate`` table of steps 3 and 4 (built once, thread-safe)."""
    global _table
    table = _table
    if table is not None:
        return table
    with _lock:
        if _table is not None:
            return _table
        built: dict[int, str] = {ord(k): v for k, v in _prototypes().items()}
        ranges = (range(0x0180, 0x0300), range(0x1D00, 0x1DC0), range(0xA720, 0xA800), range(0x10780, 0x107C0))
        for cp in (cp for r in ranges for cp in r):
            letter = _small_capital(chr(cp))
            if letter is not None:
                built[cp] = letter
        # every Mn/Me character lies in U+0300-U+1FFFF or in the variation selectors supplement
        for cp in (*range(0x0300, 0x20000), *range(0xE0100, 0xE01F0)):
            if unicodedata.category(chr(cp)) in _MARK_CATEGORIES:
                built[cp] = ""
        _table = built
        return built


def fold_text(text: str) -> str:
    """The folded form of ``text`` (see the module docstring)."""
    if text.isascii():
        return normalize_text(text)
    for blank in BLANKS:
        if blank in text:
            text = text.replace(blank, " ")
    out = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", strip_invisible(text)))
    if not out.isascii():
        table = prototype_table()
        out = out.translate(table)
        if not out.isascii():  # a prototype may itself be a small capital
            out = out.translate(table)
    return normalize_text(out)


def fold_name(name: str) -> str:
    """A name's folded form: :func:`fold_text`, surrounding spaces removed."""
    return fold_text(name).strip(" ")
