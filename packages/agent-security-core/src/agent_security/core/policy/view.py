"""What keyword and regex conditions search: the text of a request (its tool arguments at every depth,
keys included, and its user input), within bounds, in the raw and normalised forms the conditions use."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from enum import Enum
from typing import Any

from agent_security.core.models import ActionRequest
from agent_security.core.normalize import normalize_name, normalize_text, regex_text
from agent_security.core.policy.conditions import js_string
from agent_security.core.policy.fold import fold_text

__all__ = [
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_DEPTH",
    "MAX_SEARCH_NODES",
    "KeywordTexts",
    "RequestView",
    "Terms",
    "keyword_forms",
    "searchable_values",
]

MAX_SEARCH_DEPTH = 32
"""Nesting levels of ``tool_args`` searched by keyword and regex conditions."""
MAX_SEARCH_NODES = 100_000
"""Values (at any depth) of ``tool_args`` searched."""
MAX_SEARCH_CHARS = 4 * 1024 * 1024
"""Characters of text searched. Beyond any of these limits the text is incomplete: a condition that
did not find what it looks for is *indeterminate* and the rule fails closed."""


# ----------------------------------------------------------------------------------------------------
# Searchable text


def searchable_values(request: ActionRequest) -> tuple[list[str], bool]:
    """The strings keyword and regex conditions search, and whether the list is incomplete.

    ``context.user_input`` (if non-empty) first, then every value at any depth of ``tool_args`` in
    order (object keys are not searched). Numbers and booleans become strings as JavaScript's
    ``String()`` writes them; ``null`` is skipped. Bytes are decoded as UTF-8; dates, UUIDs and enums
    use their string form. Any other object, or data beyond the ``MAX_SEARCH_*`` limits, makes the
    result incomplete.
    """
    values, truncated, _ = _grouped_values(request)
    return values, truncated


def _grouped_values(request: ActionRequest) -> tuple[list[str], bool, list[int]]:
    """:func:`searchable_values` (the one traversal) and where each group starts (``user_input``, then each
    top-level argument; an empty group starts where the next one does)."""
    values: list[str] = []
    starts: list[int] = []
    append = values.append
    user_input = request.context.user_input
    chars = 0
    if user_input:
        starts.append(0)
        append(user_input)
        chars = len(user_input)
    truncated = False
    nodes = 0
    # Depth-first over iterators (no recursion, no per-node allocation for scalars).
    stack: list[Iterator[Any]] = [iter(request.action.tool_args.values())]
    while stack:
        for node in stack[-1]:
            if len(stack) == 1:
                starts.append(len(values))
            nodes += 1
            if nodes > MAX_SEARCH_NODES:
                return values, True, starts
            kind = type(node)
            if kind is str:
                text: str = node
            elif kind is int or kind is float or kind is bool:
                text = js_string(node) or ""
            elif node is None:
                continue
            elif isinstance(node, Mapping | list | tuple | set | frozenset):
                if len(stack) > MAX_SEARCH_DEPTH:
                    truncated = True
                    continue
                if isinstance(node, Mapping):
                    stack.append(iter(node.values()))
                elif isinstance(node, set | frozenset):
                    if len(node) > MAX_SEARCH_NODES:
                        return values, True, starts
                    stack.append(iter(sorted(node, key=repr)))
                else:
                    stack.append(iter(node))
                break
            else:
                scalar = js_string(node)
                if scalar is None:
                    scalar = _scalar_text(node)
                if scalar is None:
                    truncated = True
                    continue
                text = scalar
            chars += len(text)
            if chars > MAX_SEARCH_CHARS:
                return values, True, starts
            append(text)
        else:
            stack.pop()
    return values, truncated, starts


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Enum):
        return js_string(value.value) or str(value.value)
    if isinstance(value, datetime | date | dt_time | uuid.UUID | Decimal):
        return str(value)
    return None


class KeywordTexts:
    """Keyword texts in the three views (see :func:`keyword_forms`); :class:`RequestView` offers the same
    three attributes, computed lazily."""

    __slots__ = ("ascii", "keyword_fold", "keyword_norm", "keyword_raw")

    def __init__(self, raw: str, norm: str, fold: str) -> None:
        self.keyword_raw = raw
        self.keyword_norm = norm
        self.keyword_fold = fold
        self.ascii = False  # not needed: the three texts are already built


class RequestView:
    """Lazily computed, per-request facts shared by the rules of one evaluation.

    Text conditions see the searchable values in three *views*: as written (``raw``), normalised (see
    ``normalize``) and folded (see ``fold``). When a view changes nothing, it is the same object as the
    one before and each condition searches once. The values may be read all together (``user_input``
    first), without ``user_input`` (``args_*``), or argument by argument (``groups``).
    """

    __slots__ = (
        "_keyword_fold",
        "_keyword_norm",
        "_keyword_raw",
        "_labels",
        "_more",
        "_regex",
        "_truncated",
        "_values",
        "ascii",
        "request",
    )

    def __init__(self, request: ActionRequest) -> None:
        self.request = request
        self._values: list[str] | None = None
        self._truncated = False
        self._keyword_raw: str | None = None
        self.ascii = False
        """Whether the values are all ASCII (known once :attr:`keyword_raw` is built)."""
        self._keyword_norm: str | None = None
        self._keyword_fold: str | None = None
        self._regex: tuple[str, str] | None = None
        self._more: dict[Any, Any] | None = None  # the rarely needed texts (args alone, groups)
        self._labels: frozenset[str] | None = None

    def _load(self) -> list[str]:
        if self._values is None:
            self._values, self._truncated = searchable_values(self.request)
        return self._values

    @property
    def groups(self) -> list[tuple[int, int]]:
        """``(start, end)`` index ranges of :attr:`values`, one per non-empty group: ``user_input``, then
        each top-level argument with all the values inside it."""
        values, _, starts = _grouped_values(self.request)  # the same traversal, with group starts
        bounds = [*starts, len(values)]
        return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]

    @property
    def user_input_count(self) -> int:
        """1 when the first of :attr:`values` is ``user_input``, else 0."""
        return 1 if self.request.context.user_input else 0

    @property
    def values(self) -> list[str]:
        """The searchable values (``user_input`` first when present)."""
        return self._load()

    @property
    def truncated(self) -> bool:
        self._load()
        return self._truncated

    @property
    def keyword_raw(self) -> str:
        """Text for raw keyword terms: the values joined with NUL, lower-cased (nothing else)."""
        if self._keyword_raw is None:
            joined = "\x00".join(self._load())
            self.ascii = joined.isascii()
            self._keyword_raw = joined.lower()
        return self._keyword_raw

    @property
    def keyword_norm(self) -> str:
        """Text for normalised keyword terms: the normalised values joined with NUL (which normalisation
        removes, so no term can span two values). The same object as :attr:`keyword_raw` when equal."""
        if self._keyword_norm is None:
            norm = "\x00".join([normalize_text(v) for v in self._load()])
            raw = self.keyword_raw
            self._keyword_norm = raw if norm == raw else norm
        return self._keyword_norm

    @property
    def keyword_fold(self) -> str:
        """Text for folded keyword terms (see ``fold``); the same object as :attr:`keyword_norm` when
        equal (always, for ASCII text)."""
        if self._keyword_fold is None:
            norm = self.keyword_norm  # sets ascii
            values = self._load()
            if self.ascii:
                self._keyword_fold = norm
            else:
                fold = "\x00".join([fold_text(v) for v in values])
                self._keyword_fold = norm if fold == norm else fold
        return self._keyword_fold

    @property
    def keyword_texts(self) -> tuple[str, str, str]:
        """``(raw, norm, fold)`` keyword texts of all the values."""
        return self.keyword_raw, self.keyword_norm, self.keyword_fold

    def _extra(self) -> dict[Any, Any]:
        more = self._more
        if more is None:
            more = self._more = {}
        return more

    @property
    def args_keywords(self) -> KeywordTexts | RequestView:
        """The keyword texts of the tool arguments alone (``user_input`` left out)."""
        if not self.user_input_count:
            return self
        more = self._extra()
        found = more.get("args")
        if found is None:
            found = more["args"] = KeywordTexts(*keyword_forms(self._load()[1:]))
        return found

    def group_forms(self, group: tuple[int, int]) -> KeywordTexts:
        """The keyword texts of one group of values (see :attr:`groups`)."""
        more = self._extra()
        found = more.get(group)
        if found is None:
            found = more[group] = KeywordTexts(*keyword_forms(self._load()[group[0] : group[1]]))
        return found

    @property
    def regex_texts(self) -> tuple[str, str]:
        """``(raw, normalised)`` text for ``matches_regex``: the values joined with spaces, as written /
        with :func:`regex_text` applied (the same object twice when equal)."""
        if self._regex is None:
            values = self._load()
            raw = " ".join(values)
            norm = " ".join([regex_text(v) for v in values])
            self._regex = (raw, raw if norm == raw else norm)
        return self._regex

    @property
    def args_regex_texts(self) -> tuple[str, str]:
        """:attr:`regex_texts` of the tool arguments alone (``user_input`` left out)."""
        if not self.user_input_count:
            return self.regex_texts
        more = self._extra()
        found = more.get("args_regex")
        if found is None:
            values = self._load()[1:]
            raw = " ".join(values)
            norm = " ".join([regex_text(v) for v in values])
            found = more["args_regex"] = (raw, raw if norm == raw else norm)
        return found

    @property
    def labels(self) -> frozenset[str]:
        if self._labels is None:
            self._labels = frozenset(normalize_name(x) for x in self.request.context.data_labels)
        return self._labels


def keyword_forms(values: list[str]) -> tuple[str, str, str]:
    """``(raw, norm, fold)`` keyword texts of ``values`` joined with NUL (a form equal to the one before
    is the same object)."""
    joined = "\x00".join(values)
    raw = joined.lower()
    norm = "\x00".join([normalize_text(v) for v in values])
    norm = raw if norm == raw else norm
    if joined.isascii():
        return raw, norm, norm
    fold = "\x00".join([fold_text(v) for v in values])
    return raw, norm, norm if fold == norm else fold


class Terms:
    """Keyword terms in the three forms the views compare them in: as written (lower-cased),
    normalised and folded. A form equal to the one before is the same tuple."""

    __slots__ = ("fold", "norm", "raw")

    def __init__(self, terms: tuple[str, ...] | None) -> None:
        norm = tuple(dict.fromkeys(normalize_text(t) for t in terms or ()))
        raw = tuple(dict.fromkeys(t.lower() for t in terms or ()))
        fold = tuple(dict.fromkeys(fold_text(t) for t in terms or ()))
        self.norm = norm
        self.raw = norm if raw == norm else raw
        self.fold = norm if fold == norm else fold

    def all_forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.raw, *self.norm, *self.fold)))

    def found(self, texts: KeywordTexts | RequestView, *, either: bool) -> bool:
        """Whether a term occurs in the raw *or* (``either``) / *and* the normalised and folded texts
        (each form of the terms in its own text; a text equal to the one before is not searched again, and
        is not even built when the raw text decides)."""
        raw = texts.keyword_raw
        first = any(t in raw for t in self.raw)
        if first is either:
            return first
        norm = texts.keyword_norm
        if not (norm is raw and self.norm is self.raw):
            second = any(t in norm for t in self.norm)
            if second is either:
                return second
        if self.fold is self.norm and texts.ascii:  # ASCII text folds as it normalises
            return not either
        fold = texts.keyword_fold
        if fold is norm and self.fold is self.norm:
            return not either
        return any(t in fold for t in self.fold)
