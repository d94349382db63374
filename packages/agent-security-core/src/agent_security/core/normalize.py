"""Text normalisation for keyword conditions and name matching.

Keyword conditions (``contains_any``, ``not_contains``) and name comparisons (tool names, environments,
agent types, roles, providers, data labels) compare *normalised* text, so that the usual evasions
(``Send_Email``, fullwidth ``export``, ``ex\u200bport``, ``EX\u00adPORT``, tag characters, bidi controls,
odd spacing) meet the rule they try to dodge. The steps, applied to both sides:

1. remove invisible characters: every format character (Unicode category ``Cf``: zero-width space and
   joiners, soft hyphen, bidi embeddings/overrides/isolates, word joiner, BOM, the tag block
   U+E0000-E007F, ...), control characters that are not whitespace, variation selectors, the combining
   grapheme joiner and the Hangul fillers;
2. Unicode NFKC (fullwidth and compatibility forms fold to their plain equivalents);
3. case folding (``str.casefold``), then NFKC again (case folding can leave non-NFKC sequences). The
   dotless i (U+0131) and the dotted capital I (U+0130), which case folding keeps apart from ``i``,
   fold to ``i`` too (``send_ema\\u0131l`` is ``send_email``: its ``upper()`` is ``SEND_EMAIL``, and a
   tool comparing names with ``upper()`` or a Turkish locale treats them as the same name);
4. collapse every run of whitespace to a single space (ends are kept, so ``" bulk"`` still means a
   word start).

:func:`canonical_agent_id` is the one form of an agent id: the kill switch, the rate limiter, the session
limits, the policy, the registries and the audit trail all see ``Agent-7``, ``agent-7 `` and
``agent\u200b-7`` as ``agent-7``, so a kill or a limit holds for every spelling that reaches the agent.

``regex_text`` applies only steps 1 and 2 (a ``matches_regex`` pattern is case-insensitive and may rely
on real whitespace such as ``\\s+``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "INVISIBLE_RANGES",
    "canonical_agent_id",
    "normalize_name",
    "normalize_text",
    "regex_text",
    "strip_invisible",
]

INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008),
    (0x000E, 0x001B),
    (0x007F, 0x0084),
    (0x0086, 0x009F),  # C0/C1 controls (not spaces)
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels (invisible)
    (0x180B, 0x180F),  # Mongolian free variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidi isolates, deprecated format characters
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # byte order mark / zero-width no-break space
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE007F),  # tag characters
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
"""Code point ranges removed before matching (inclusive). Covers every ``Cf`` character of the running
Python's Unicode database (a test checks this) plus invisible characters of other categories."""


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "[" + "".join(parts) + "]+"


_INVISIBLE = re.compile(_char_class(INVISIBLE_RANGES))
_WHITESPACE = re.compile(r"\s+")


def strip_invisible(text: str) -> str:
    """``text`` without the invisible characters listed in :data:`INVISIBLE_RANGES`."""
    return _INVISIBLE.sub("", text)


def normalize_text(text: str) -> str:
    """Normalise ``text`` for keyword and name comparisons (see the module docstring)."""
    if text.isascii():
        lowered = text.lower()  # casefold() == lower() and NFKC is the identity on ASCII
        # printable ASCII has no control characters and no whitespace but the plain space
        if lowered.isprintable() and "  " not in lowered:
            return lowered
        return _WHITESPACE.sub(" ", _INVISIBLE.sub("", lowered))
    out = _INVISIBLE.sub("", text)
    out = unicodedata.normalize("NFKC", out).casefold()
    if "\u0131" in out:  # dotless i
        out = out.replace("\u0131", "i")
    if "i\u0307" in out:  # "i" with a combining dot above (what case folding makes of the dotted capital I)
        out = out.replace("i\u0307", "i")
    out = unicodedata.normalize("NFKC", out)
    out = _INVISIBLE.sub("", out)
    return _WHITESPACE.sub(" ", out)


def normalize_name(name: str) -> str:
    """Names (tool names, environments, roles, ...): :func:`normalize_text`, then surrounding spaces
    removed (``"send_email "`` is ``send_email``)."""
    return normalize_text(name).strip(" ")


def canonical_agent_id(agent_id: str) -> str:
    """The canonical form of an agent id: :func:`normalize_name` (invisible characters removed, NFKC,
    case folded, whitespace runs collapsed, surrounding spaces removed). ``""`` for an id made only of
    what is removed (callers refuse it)."""
    if agent_id.isascii() and agent_id.isprintable():
        lowered = agent_id.lower()
        if "  " not in lowered and lowered[:1] != " " and lowered[-1:] != " ":
            return lowered
    return normalize_name(agent_id).strip()


def regex_text(text: str) -> str:
    """The form of ``text`` a ``matches_regex`` pattern is run against: invisible characters removed and
    NFKC applied, case and whitespace kept."""
    if text.isascii():
        return text if text.isprintable() else _INVISIBLE.sub("", text)
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
