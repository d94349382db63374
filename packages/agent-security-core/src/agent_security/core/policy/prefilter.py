"""Which rules a request can possibly match, found in one pass instead of rule by rule.

Most rules of a large policy cannot match a given request: their keywords do not occur in it, their
argument is absent, their data label is not carried. Each rule with ``when`` conditions gets a *gate* for
each of these conditions it has, a condition that must hold for the rule to match:

* ``data_labels_any``: open when the request carries one of the labels;
* a ``tool_args_match`` path whose tests fail on a missing argument (all but ``neq``/``not_in``): open
  when ``tool_args`` has a top-level key the path can start with (``a``, ``a.b`` for ``a.b.c``, ...);
* ``contains_any``: open when one of its terms, in any of its three forms, occurs in the matching
  keyword text of the request. All the terms of the bundle are compiled into one RE2 set, run once
  per text;
* a ``matches_regex`` without ``^``/``$``/``\\A``/``\\z``: open when the pattern matches the joined text
  of the request (raw or normalised). All such patterns are compiled into one RE2 set.

A rule may have several gates (say a label and a keyword); it is evaluated only when all are open.
A closed gate proves that the gated condition is false (not indeterminate), so skipping the rule keeps
first-match semantics exactly. A gate never closes when the searchable text is incomplete (truncated)
or longer than a pattern may search; rules without a gate are always evaluated. When a set cannot be
built, its gates are dropped (those rules are then always evaluated); when it cannot be run on a
request, every gate is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import re2

from agent_security.core.policy.patterns import MAX_REGEX_INPUT, translate_js_escapes
from agent_security.core.policy.view import RequestView
from agent_security.core.policy.when import CompiledWhen

__all__ = ["Prefilter"]

_SET_MAX_MEM = 64 << 20
_LABEL, _KEY, _TERM, _REGEX = 1, 2, 4, 8


def _new_set(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    options.max_mem = _SET_MAX_MEM
    return re2.Set.SearchSet(options)


class Prefilter:
    """The gates of a bundle's rules (by rule index). Immutable after construction; thread-safe."""

    __slots__ = (
        "_by_key",
        "_by_label",
        "_needs",
        "_regex_gated",
        "_regex_limit",
        "_regex_rules",
        "_regex_set",
        "_term_gated",
        "_term_rules",
        "_term_set",
        "gated",
    )

    def __init__(self, whens: Iterable[tuple[int, CompiledWhen]]) -> None:
        by_key: dict[str, set[int]] = {}
        by_label: dict[str, set[int]] = {}
        terms: dict[str, list[int]] = {}
        patterns: dict[str, list[int]] = {}
        limit = MAX_REGEX_INPUT
        needs: dict[int, int] = {}
        for index, when in whens:
            need = 0
            cond = next((c for c in when.args if not c.holds_when_missing), None)
            if when.labels:
                need |= _LABEL
                for label in when.labels:
                    by_label.setdefault(label, set()).add(index)
            if cond is not None:
                need |= _KEY
                for key in cond.top_keys:
                    by_key.setdefault(key, set()).add(index)
            if when.contains is not None:
                need |= _TERM
                for term in when.contains.all_forms():
                    terms.setdefault(term, []).append(index)
            if when.regex is not None and not when.anchored:
                need |= _REGEX
                patterns.setdefault(when.regex.pattern, []).append(index)
                limit = min(limit, when.regex.max_input)
            if need:
                needs[index] = need
        self._by_key = {k: frozenset(v) for k, v in by_key.items()}
        self._by_label = {k: frozenset(v) for k, v in by_label.items()}
        self._term_set, self._term_rules = self._build(terms, case_sensitive=True, escape=True)
        self._regex_set, self._regex_rules = self._build(patterns, case_sensitive=False, escape=False)
        self._regex_limit = limit
        if self._term_set is None:  # could not be built: that gate is dropped
            for ids in terms.values():
                for i in ids:
                    needs[i] &= ~_TERM
        if self._regex_set is None:
            for ids in patterns.values():
                for i in ids:
                    needs[i] &= ~_REGEX
        self._needs = {i: n for i, n in needs.items() if n}
        self._term_gated = frozenset(i for ids in self._term_rules for i in ids)
        self._regex_gated = frozenset(i for ids in self._regex_rules for i in ids)
        self.gated = frozenset(self._needs)

    @staticmethod
    def _build(
        entries: dict[str, list[int]], *, case_sensitive: bool, escape: bool
    ) -> tuple[Any, tuple[tuple[int, ...], ...]]:
        if not entries:
            return None, ()
        try:
            result = _new_set(case_sensitive)
            rules: list[tuple[int, ...]] = []
            for text, ids in entries.items():
                position = result.Add(re2.escape(text) if escape else translate_js_escapes(text))
                if position != len(rules):  # pragma: no cover - RE2 numbers patterns in order
                    return None, ()
                rules.append(tuple(ids))
            result.Compile()
        except Exception:
            return None, ()
        return result, tuple(rules)

    def open_gates(self, view: RequestView) -> set[int] | None:
        """The gated rules (indices) whose gate is open for this request; ``None``: treat all as open."""
        try:
            return self._open(view)
        except Exception:
            return None

    def _open(self, view: RequestView) -> set[int]:
        keys: set[int] = set()
        if self._by_key:
            args = view.request.action.tool_args
            if len(args) <= len(self._by_key):
                for key in args:
                    hit = self._by_key.get(key)
                    if hit is not None:
                        keys.update(hit)
            else:
                for key, hit in self._by_key.items():
                    if key in args:
                        keys.update(hit)
        labels: set[int] = set()
        if self._by_label and view.request.context.data_labels:
            for label in view.labels:
                hit = self._by_label.get(label)
                if hit is not None:
                    labels.update(hit)
        terms: set[int] = set()
        if self._term_set is not None:
            if view.truncated:
                terms.update(self._term_gated)
            else:
                self._match(self._term_set, self._term_rules, view.keyword_texts, terms)
        regexes: set[int] = set()
        if self._regex_set is not None:
            texts = view.regex_texts
            if view.truncated or max(len(texts[0]), len(texts[1])) > self._regex_limit:
                regexes.update(self._regex_gated)
            else:
                self._match(self._regex_set, self._regex_rules, texts, regexes)
        needs = self._needs
        opened: set[int] = set()
        for i in keys | labels | terms | regexes:
            need = needs.get(i, 0)
            have = (
                (_KEY if i in keys else 0)
                | (_LABEL if i in labels else 0)
                | (_TERM if i in terms else 0)
                | (_REGEX if i in regexes else 0)
            )
            if need & have == need:
                opened.add(i)
        return opened

    @staticmethod
    def _match(compiled: Any, rules: tuple[tuple[int, ...], ...], texts: tuple[str, ...], found: set[int]) -> None:
        previous: str | None = None
        for text in texts:
            if text is previous:
                continue
            previous = text
            for position in compiled.Match(text) or ():
                found.update(rules[position])
