"""The prefilter: one RE2 pass over a layer decides which detectors and decoders run, and where.

Every built-in classifier contributes an anchor precise enough that benign text rarely matches it (a
whole token shape, not a loose prefix); decoders contribute *triggers* that match only what can decode to
text (base64 whose 4-character groups encode printable ASCII, hex whose byte pairs are printable, ...).
Number shapes that only count with context (a bare nine-digit SSN, a bare ten-digit phone number) are
anchored two ways: behind one of their context words within the scoring window (``context_anchor``), and
bare when the JSON key names the kind (``keyed_anchor``). The scanner asks :meth:`Prefilter.pass_for` for
the pass of a key; a few variants are compiled, each once.

The search calls the compiled RE2 object's ``Match`` directly when the binding exposes it (it skips the
wrapper's generator and match object: about half the cost of a call on short strings).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import re2

from agent_security.core.errors import ConfigurationError

if TYPE_CHECKING:
    from agent_security.egress.classifiers.base import Classifier

__all__ = [
    "B64_TEXT",
    "GATE",
    "HEX_TEXT",
    "AnchorGroup",
    "CombinedPass",
    "Passes",
    "Prefilter",
    "check_anchor",
    "compile_pass",
]

# base64 of printable ASCII (and tab/newline/CR): the classes each position of a 4-character group can take
# (computed from every byte triple; see tests/egress/test_prefilter.py)
_B64_GROUP = "[C-Za-f][AC-HQ-Xgi-nwyz0-3][ABEFIJMNQRUVYZcdghklopstwx014589][A-Za-z0-9+/_-]"
B64_TEXT = f"(?:{_B64_GROUP}){{3}}[C-Za-f][A-Za-z0-9+/_-]"
"""At least 14 characters of base64 that can be the encoding of printable text, at some alignment."""
_COMPRESSED = r"(?:H4sI|eJ[wyz]|eNo|eF4|eAE)[A-Za-z0-9+/]{12}"
"""base64 of gzip (``1f 8b 08``) or zlib (``78 01/5e/9c/da``) data."""
HEX_TEXT = r"(?:[2-7][0-9A-Fa-f]|0[9aAdD]){8}"
"""Eight hex byte pairs of printable text."""
_B32_TEXT = r"(?:[A-P][A-Z2-7]{7}){2}"
"""base32 of printable text: each 8-character group starts with the top bits of an ASCII byte."""
_A85 = r"<~[!-uz\s]{10}"

DECODER_TRIGGERS: tuple[tuple[str, str], ...] = (
    ("url", r"(?:%[0-9A-Fa-f]{2})+"),
    ("escape", r"(?:\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})+"),
    ("html", r"&#[xX]?[0-9A-Fa-f]{1,6};|&(?:commat|period|colon|sol|equals|lowbar|plus|sol);"),
    ("obfuscation", r"[\[({][ \t]*(?i:at|dot)[ \t]*[\])}]"),
    ("chars", r"\b(?:0x[2-7][0-9A-Fa-f]|\d{2,3})(?:\s*,\s*(?:0x[0-9A-Fa-f]{2}|\d{1,3})){7}"),
    ("a85", _A85),
    ("blob", f"{_COMPRESSED}|{B64_TEXT}|{HEX_TEXT}|{_B32_TEXT}"),
)
"""Decoder name and trigger, in the order RE2 prefers them at one start position (after every detector)."""


@dataclass
class AnchorGroup:
    """What one alternative of the combined pattern wakes: classifiers, or a decoder."""

    classifiers: list[Classifier] = field(default_factory=list)
    decoder: str | None = None


_MAX_MEM = 64 << 20
"""RE2's memory cap for one compiled pass (its lazily built automata). Below this, a megabyte of text dense
with near-misses makes RE2 drop and rebuild its DFA states over and over (10x slower on the benchmark's
near-miss text at 32 MB); in use the passes grow to a few megabytes each (about 40 MB in all after scanning
megabytes of mixed and random text)."""

_Search = Callable[[bytes, int, int], "tuple[int, int, int] | None"]

_SHORT = 4
"""Longest match whose alternative :func:`_searcher` remembers by its bytes."""


GATE = r"\b\d{9}|\(?\b0\d{1,4}\)?[ .-]?\d{2,4}[ .-]?\d{2,4}"
"""A bare run of nine or more digits, or a trunk-prefixed national number: what the context-gated anchors
need. The first one in a layer turns the gated pass on for that layer."""


class Passes:
    """The passes for one key: ``outer`` (detectors, decoders and the gate), ``after_gate`` (the same without
    the gate, used once the gate has opened), ``inner`` (detectors only, inside a decoder's segment) and
    ``gated`` (the context-gated anchors, run over a layer once its gate opened). ``after_gate`` and
    ``inner`` are compiled the first time a layer needs them: most values open no gate and hold no encoded
    segment, and a fresh process (a host's hook) checks one call."""

    def __init__(
        self,
        detectors: list[tuple[str, AnchorGroup]],
        decoders: list[tuple[str, AnchorGroup]],
        gate: list[tuple[str, AnchorGroup]],
        gated: CombinedPass | None,
    ) -> None:
        self._detectors, self._decoders = detectors, decoders
        self.outer = compile_pass(detectors + decoders + gate, check=False)
        self.gated = gated

    @functools.cached_property
    def after_gate(self) -> CombinedPass:
        return compile_pass(self._detectors + self._decoders, check=False)

    @functools.cached_property
    def inner(self) -> CombinedPass:
        return compile_pass(self._detectors, check=False)


@dataclass(frozen=True)
class CombinedPass:
    """One compiled alternation: ``search(data, pos, end) -> (start, end, group) | None``."""

    search: _Search
    groups: tuple[AnchorGroup, ...]
    span: Callable[[bytes, int, int], tuple[int, int] | None]
    """The leftmost match's span only (no alternative looked up)."""
    group: Callable[[bytes, int, int], int]
    """The alternative that matched ``data[s:e]`` (a span :attr:`span` returned)."""


def check_anchor(anchor: str) -> None:
    """Refuse an anchor RE2 cannot compile or one with a capturing group (checked once per anchor)."""
    try:
        single = re2.compile(anchor)
    except Exception as exc:
        raise ConfigurationError(f"cannot compile the classifier anchor {anchor[:80]!r}: {exc}") from None
    if single.groups:
        raise ConfigurationError("classifier anchors must not contain capturing groups; use (?:...)")


def compile_pass(alternatives: Sequence[tuple[str, AnchorGroup]], *, check: bool = True) -> CombinedPass:
    """Compile ``(anchor, group)`` pairs into one RE2 alternation (group numbers start at 1). ``check``: refuse
    each anchor RE2 cannot compile alone or that has a capturing group (``False`` for the built-in passes:
    a test holds the built-in anchors to it, and a fresh process would pay milliseconds for it).

    The search asks RE2 for the span of the leftmost match only (no capturing groups: asking for submatches
    makes RE2 run its NFA over the match on a program this size, several microseconds a hit); which
    alternative matched is then read from an RE2 set of the anchors, anchored at both ends of the span (the
    lowest index among those that match is the one leftmost-first preferred)."""
    groups: list[AnchorGroup] = [AnchorGroup()]  # index 0 unused
    anchors = []
    options = re2.Options()
    options.max_mem = _MAX_MEM
    for anchor, group in alternatives:
        if check:
            check_anchor(anchor)
        anchors.append(anchor)
        groups.append(group)
    try:
        rx = re2.compile("|".join(f"(?:{a})" for a in anchors), options)
        resolver = _Resolver(anchors, options)
        if check:
            resolver.compiled()  # a custom anchor's failure is a configuration error, found at start
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"cannot compile the combined classifier pattern: {exc}") from None
    group_of = _grouper(resolver, len(anchors))
    return CombinedPass(_searcher(rx, group_of), tuple(groups), _spanner(rx), group_of)


class _Resolver:
    """What tells which alternative matched (an RE2 set of the anchors, and the alternation with capturing
    groups), compiled when the first match needs it: a value that matches no anchor (most values; a hook's
    fresh process checks one call) never pays for them."""

    def __init__(self, anchors: list[str], options: Any) -> None:
        self._anchors, self._options = anchors, options
        self._lock = threading.Lock()
        self._compiled: tuple[Any, Any] | None = None

    def compiled(self) -> tuple[Any, Any]:
        """``(which, captured)``; raises :class:`ConfigurationError` when they cannot be compiled."""
        got = self._compiled
        if got is not None:
            return got
        with self._lock:
            if self._compiled is None:
                try:
                    which = re2.Set.FullMatchSet(self._options)
                    for a in self._anchors:
                        which.Add(a)
                    which.Compile()
                    captured = re2.compile("|".join(f"({a})" for a in self._anchors), self._options)
                except Exception as exc:
                    raise ConfigurationError(f"cannot compile the combined classifier pattern: {exc}") from None
                self._compiled = (which, captured)
            return self._compiled


def _spanner(rx: Any) -> Callable[[bytes, int, int], tuple[int, int] | None]:
    regexp = getattr(rx, "_regexp", None)
    anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
    if regexp is not None and anchor is not None and hasattr(regexp, "Match"):
        unanchored = anchor.UNANCHORED
        match = regexp.Match

        def fast(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
            s, e = match(unanchored, data, pos, end)[0]
            return None if s < 0 else (s, e)

        return fast

    def slow(data: bytes, pos: int, end: int) -> tuple[int, int] | None:
        m = rx.search(data, pos, end)
        return None if m is None else (m.start(), m.end())

    return slow


def _grouper(resolver: _Resolver, n: int) -> Callable[[bytes, int, int], int]:
    short: dict[bytes, int] = {}
    resolved: list[Any] = []  # the set's Match and the capturing pattern, once the first match needs them

    def group_of(data: bytes, s: int, e: int) -> int:
        """The alternative that matched ``data[s:e]``: from the set, else (an assertion at the span's edge
        that the slice cannot see) from the capturing pattern, anchored at ``s``. The set's answer for a
        match of at most :data:`_SHORT` bytes (an email's ``x@y``) is remembered: it depends on those bytes
        alone, and so few tell nothing about the value around them."""
        if n == 1:
            return 1
        piece = data[s:e]
        if e - s <= _SHORT:
            known = short.get(piece)
            if known is not None:
                return known
        if not resolved:
            which, captured = resolver.compiled()
            set_match = getattr(getattr(which, "_set", None), "Match", None)
            resolved[:] = [set_match if set_match is not None else which.Match, captured]  # one store: atomic
        found = resolved[0](piece)
        if found:
            group = int(min(found)) + 1
            if e - s <= _SHORT:
                if len(short) >= 4096:
                    short.clear()
                short[piece] = group
            return group
        m = resolved[1].match(data, s, e)
        return int(m.lastindex) if m is not None and m.lastindex else 1

    return group_of


def _searcher(rx: Any, group_of: Callable[[bytes, int, int], int]) -> _Search:
    regexp = getattr(rx, "_regexp", None)
    anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)

    if regexp is not None and anchor is not None and hasattr(regexp, "Match"):
        unanchored = anchor.UNANCHORED
        match = regexp.Match

        def fast(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
            s, e = match(unanchored, data, pos, end)[0]
            if s < 0:
                return None
            return s, e, group_of(data, s, e)

        return fast

    def slow(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
        m = rx.search(data, pos, end)
        if m is None:
            return None
        s, e = m.span()
        return s, e, group_of(data, s, e)

    return slow


class Prefilter:
    """The combined passes of one scanner: per set of key-activated anchors, the outer pass (detectors and
    decoders) and the inner pass (detectors only: run inside a decoder's segment)."""

    def __init__(self, classifiers: Sequence[Classifier]) -> None:
        self._builtin = [c for c in classifiers if c.builtin]
        self._keyed = [c for c in self._builtin if c.keyed_anchor and c.keys]
        self._lock = threading.Lock()
        self._passes: dict[tuple[int, ...], Passes] = {}
        self.passes = _PassesByKey(self)
        """``passes[nkey]``: :meth:`passes_for` remembered per key."""
        self.shapes: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[str, ...], bool]] = {}
        """What :mod:`.flat` knows of the keys of a flat argument, per tuple of keys."""
        self.last_gate: tuple[bytes, tuple[int, int] | None] = (b"", None)
        """The last short text the enforcer's gate searched with the default pass, and its first match: the
        same text is the first search of the scan that follows a gate that found something."""
        self._by_key: dict[str, tuple[int, ...]] = {}
        gated: dict[str, AnchorGroup] = {}
        for c in self._builtin:
            if c.context_anchor:
                gated.setdefault(c.context_anchor, AnchorGroup()).classifiers.append(c)
        # context-gated anchors (a word, a gap, a bare number) have a pass of their own: a bounded gap inside
        # the combined alternation would multiply the states of its automaton
        self._gated = compile_pass(list(gated.items()), check=False) if gated else None
        self.default = self._build(())
        custom: dict[str, AnchorGroup] = {}
        for c in classifiers:
            if not c.builtin:
                custom.setdefault(c.anchor, AnchorGroup()).classifiers.append(c)
        self.custom = compile_pass(list(custom.items())) if custom else None

    def _build(self, active: tuple[int, ...]) -> Passes:
        table: dict[str, AnchorGroup] = {}
        for c in self._builtin:
            table.setdefault(c.anchor, AnchorGroup()).classifiers.append(c)
        for i in active:
            c = self._keyed[i]
            table.setdefault(c.keyed_anchor, AnchorGroup()).classifiers.append(c)
        detectors = list(table.items())
        decoders = [(trigger, AnchorGroup(decoder=name)) for name, trigger in DECODER_TRIGGERS]
        gate = [(GATE, AnchorGroup(decoder="gate"))] if self._gated is not None else []
        return Passes(detectors, decoders, gate, self._gated)

    def passes_for(self, nkey: str | None) -> Passes:
        """The passes for a value under the normalised key ``nkey``."""
        if nkey is None or not self._keyed:
            return self.default
        active = self._by_key.get(nkey)
        if active is None:
            active = tuple(i for i, c in enumerate(self._keyed) if any(k in nkey for k in c.keys))
            if len(self._by_key) > 4096:
                self._by_key.clear()
            self._by_key[nkey] = active
        if not active:
            return self.default
        got = self._passes.get(active)
        if got is None:
            with self._lock:
                got = self._passes.get(active)
                if got is None:
                    got = self._build(active)
                    self._passes[active] = got
        return got


class _PassesByKey(dict[str | None, Passes]):
    def __init__(self, prefilter: Prefilter) -> None:
        super().__init__()
        self._prefilter = prefilter

    def __missing__(self, nkey: str | None) -> Passes:
        got = self._prefilter.passes_for(nkey)
        if len(self) >= 4096:
            self.clear()
        self[nkey] = got
        return got
