"""Classifiers: what sensitive data looks like, and how a candidate is confirmed.

A :class:`Classifier` contributes an *anchor* (an RE2 regular expression) to the scanner's single
combined pass over the text, and a *detector* that runs only where its anchor matched, on a small
window, to extract, validate (Luhn, mod-97, checksums, structure), score (context words, key names)
and mask the candidate. Built-in detectors use Python's ``re`` on bounded windows with patterns written
to be linear; custom patterns (from configuration or other distributions) only ever run through RE2.

Confidence is a float in ``[0, 1]``; the scanner drops hits below its ``min_confidence`` (0.5 by
default). Context words before a hit and the JSON key the value sits under raise it; words such as
"example" or "order" lower it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import re2

from agent_security.core.errors import ConfigurationError
from agent_security.egress.findings import Classification

if TYPE_CHECKING:
    from agent_security.egress.scanner import LayerView

__all__ = [
    "NEGATIVE",
    "Classifier",
    "Detector",
    "Hit",
    "alnum_at",
    "custom_classifier",
    "full",
    "s_",
    "score",
    "word_bounded",
]


@dataclass(slots=True)
class Hit:
    """A confirmed candidate inside one scanned layer (byte offsets into that layer)."""

    kind: str
    classification: Classification
    start: int
    end: int
    confidence: float
    masked: str
    priority: int
    classifier: str
    consume: bool = True
    """False when the scan should keep looking inside this hit (generic key=value hits)."""
    decoding: tuple[str, ...] = ()
    layer: int = 0
    inner: tuple[int, int] = (0, 0)


Detector = Callable[["LayerView", int, int], Iterable[Hit]]


@dataclass(frozen=True, eq=False)
class Classifier:
    """One kind of sensitive data.

    ``anchor`` is an RE2 pattern matched by the scanner's combined pass; ``detect(view, start, end)``
    is called for each anchor match and yields confirmed :class:`Hit` objects. Built-in classifiers
    may share an anchor; the prefilter (:mod:`agent_security.egress._speedups.prefilter`) wakes a detector
    only where its anchor matched.
    """

    name: str
    kind: str
    classification: Classification
    anchor: str
    detect: Detector = field(repr=False)
    priority: int = 50
    description: str = ""
    builtin: bool = False
    """Built-in anchors run in the primary pass; custom ones in one extra combined pass."""
    context_anchor: str = ""
    """A second anchor for a shape that only counts with context (a bare number behind one of its context
    words): the prefilter wakes the detector only where the words are."""
    keyed_anchor: str = ""
    """An anchor used only for values under a JSON key containing one of ``keys`` (a bare number under
    ``ssn``)."""
    keys: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------
# shared helpers
# ------------------------------------------------------------------------------------------------

NEGATIVE = (b"example", b"sample", b"dummy", b"placeholder", b"fake", b"lorem")


def s_(b: bytes) -> str:
    return b.decode("utf-8", "replace")


_WORDS: dict[int, tuple[object, re.Pattern[bytes]]] = {}


def _words(words: Sequence[bytes]) -> re.Pattern[bytes]:
    """The alternation of ``words``, compiled once per word list (keyed by the list object: the lists are
    module constants, and hashing their contents on every call would cost more than the search)."""
    got = _WORDS.get(id(words))
    if got is None or got[0] is not words:
        if len(_WORDS) >= 1024:
            _WORDS.clear()
        got = (words, re.compile(b"|".join(re.escape(w) for w in words)))
        _WORDS[id(words)] = got
    return got[1]


def score(
    view: LayerView,
    start: int,
    base: float,
    context: Sequence[bytes] = (),
    keys: Sequence[str] = (),
    negative: Sequence[bytes] = NEGATIVE,
    window: int = 48,
) -> float:
    """``base`` raised by context words in the ``window`` bytes before ``start`` and by a matching JSON
    key name, lowered by negative words."""
    c = base
    win = view.data[start - window if start > window else 0 : start].lower() if start else b""
    if win and context and _words(context).search(win):
        c += 0.15
    if keys and view.key:
        for k in keys:
            if k in view.key:
                c += 0.2
                break
    if win and negative and _words(negative).search(win):
        c -= 0.3
    return 0.0 if c < 0.0 else 1.0 if c > 1.0 else c


def alnum_at(data: bytes, i: int) -> bool:
    return 0 <= i < len(data) and (chr(data[i]).isalnum() and data[i] < 128)


def word_bounded(data: bytes, s: int, e: int, extra: bytes = b"") -> bool:
    def inside(i: int) -> bool:
        return 0 <= i < len(data) and (alnum_at(data, i) or data[i] in extra)

    return not inside(s - 1) and not inside(e)


def full(pattern: bytes, detector: Detector, limit: int = 512) -> Detector:
    """Run ``detector`` on the full token matched by ``pattern`` at the anchor's start.

    Anchors stay short (a literal prefix and one character) so the combined RE2 automaton stays small
    and fast; the bounded Python pattern here extends the match only where an anchor hit.
    """
    rx = re.compile(pattern)

    def detect(view: LayerView, s: int, e: int) -> Iterable[Hit]:
        m = rx.match(view.data, s, min(len(view.data), s + limit))
        if m is None:
            return ()
        return detector(view, s, m.end())

    return detect


# ------------------------------------------------------------------------------------------------
# custom classifiers
# ------------------------------------------------------------------------------------------------


def custom_classifier(
    kind: str,
    pattern: str,
    classification: Classification | str = Classification.CUSTOM,
    *,
    validator: Callable[[str], bool] | None = None,
    context_words: Sequence[str] = (),
    negative_words: Sequence[str] = (),
    key_names: Sequence[str] = (),
    confidence: float = 0.7,
    mask_keep: int = 0,
    priority: int = 50,
    name: str | None = None,
    description: str = "",
) -> Classifier:
    """Build a classifier from an RE2 ``pattern`` (linear time: safe for patterns from configuration).

    ``validator(match) -> bool`` confirms a match (e.g. a checksum); ``context_words`` seen in the 48
    characters before a match add 0.15 to ``confidence``, ``negative_words`` subtract 0.3, and
    ``key_names`` (substrings of the JSON key the value sits under) add 0.2. ``mask_keep`` leading
    characters are shown in the masked preview when the match is at least four times longer.

    Raises :class:`~agent_security.core.ConfigurationError` for a pattern RE2 rejects or one that
    matches the empty string.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", kind):
        raise ConfigurationError(f"classifier kind {kind!r} must be lower-case snake_case (<= 64 chars)")
    try:
        compiled = re2.compile(pattern)
    except Exception as exc:
        raise ConfigurationError(f"classifier {kind!r}: pattern is not a valid RE2 expression: {exc}") from None
    if compiled.groups:
        raise ConfigurationError(f"classifier {kind!r}: use non-capturing groups (?:...) in the pattern")
    if compiled.fullmatch("") is not None:
        raise ConfigurationError(f"classifier {kind!r}: pattern matches the empty string")
    if not 0.0 <= confidence <= 1.0:
        raise ConfigurationError(f"classifier {kind!r}: confidence must be within [0, 1]")
    cls = Classification(classification)
    ctx = tuple(w.lower().encode() for w in context_words)
    neg = tuple(w.lower().encode() for w in negative_words)
    keys = tuple(re.sub(r"[\s_\-.]", "", k.lower()) for k in key_names)

    def detect(view: LayerView, s: int, e: int) -> Iterable[Hit]:
        text = s_(view.data[s:e])
        if validator is not None and not validator(text):
            return
        conf = score(view, s, confidence, ctx, keys, neg or NEGATIVE)
        masked = text[:mask_keep] + "****" if mask_keep and len(text) >= 4 * mask_keep else f"[{kind}]"
        yield Hit(kind, cls, s, e, conf, masked, priority, name or kind)

    return Classifier(name or kind, kind, cls, pattern, detect, priority, description or f"custom: {kind}")
