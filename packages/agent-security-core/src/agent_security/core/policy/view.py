"""What keyword and regex conditions search: the text of a request (its tool arguments at every depth,
keys included, and its user input), within bounds, in the raw and normalised forms the conditions use."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from enum import Enum
from typing import Any

from agent_security.core.models import ActionRequest
from agent_security.core.normalize import normalize_name, normalize_text, regex_text
from agent_security.core.policy.conditions import (
    js_string,
)

__all__ = [
    "MAX_SEARCH_CHARS",
    "MAX_SEARCH_DEPTH",
    "MAX_SEARCH_NODES",
    "RequestView",
    "found_terms",
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
    values: list[str] = []
    append = values.append
    user_input = request.context.user_input
    chars = 0
    if user_input:
        append(user_input)
        chars = len(user_input)
    truncated = False
    nodes = 0
    # Depth-first over iterators (no recursion, no per-node allocation for scalars).
    stack: list[Iterator[Any]] = [iter(request.action.tool_args.values())]
    while stack:
        for node in stack[-1]:
            nodes += 1
            if nodes > MAX_SEARCH_NODES:
                return values, True
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
                        return values, True
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
                return values, True
            append(text)
        else:
            stack.pop()
    return values, truncated


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Enum):
        return js_string(value.value) or str(value.value)
    if isinstance(value, datetime | date | dt_time | uuid.UUID | Decimal):
        return str(value)
    return None


class RequestView:
    """Lazily computed, per-request facts shared by the rules of one evaluation.

    Text conditions see the searchable values in two *views*: as written (``raw``) and normalised (see
    ``normalize``). When normalisation changes nothing, both views are the same object and each condition
    searches once.
    """

    __slots__ = ("_keyword_norm", "_keyword_raw", "_labels", "_regex", "_truncated", "_values", "request")

    def __init__(self, request: ActionRequest) -> None:
        self.request = request
        self._values: list[str] | None = None
        self._truncated = False
        self._keyword_raw: str | None = None
        self._keyword_norm: str | None = None
        self._regex: tuple[str, str] | None = None
        self._labels: frozenset[str] | None = None

    def _load(self) -> list[str]:
        if self._values is None:
            self._values, self._truncated = searchable_values(self.request)
        return self._values

    @property
    def truncated(self) -> bool:
        self._load()
        return self._truncated

    @property
    def keyword_raw(self) -> str:
        """Text for raw keyword terms: the values joined with NUL, lower-cased (nothing else)."""
        if self._keyword_raw is None:
            self._keyword_raw = "\x00".join(self._load()).lower()
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
    def labels(self) -> frozenset[str]:
        if self._labels is None:
            self._labels = frozenset(normalize_name(x) for x in self.request.context.data_labels)
        return self._labels


def found_terms(raw_terms: tuple[str, ...], norm_terms: tuple[str, ...], view: RequestView, *, either: bool) -> bool:
    """Whether a term occurs in the raw view (raw terms) *or* (``either``) / *and* the normalised view
    (normalised terms). The normalised text is built only when the raw view does not decide."""
    raw = view.keyword_raw
    first = any(t in raw for t in raw_terms)
    if first is either:
        return first
    norm = view.keyword_norm
    if norm is raw and raw_terms is norm_terms:
        return first
    return any(t in norm for t in norm_terms)
