"""A rule's ``when`` conditions, compiled, and how each is judged on a request.

Every text condition reads the request in several ways: the raw, normalised and folded views (see
:class:`~agent_security.core.policy.view.RequestView`), the values joined or one by one, with or
without ``user_input``. The principle: a DENY or approval-like rule (``restrictive``) takes the reading
that fires it, an ALLOW rule the reading that does not.

* ``contains_any``: restrictive, a term in any view of any value (``user_input`` included); ALLOW, a
  term in every view of the tool arguments (``user_input`` cannot switch an ALLOW rule on).
* ``matches_regex``: restrictive, a match in the joined values (raw or normalised), or, for a pattern
  with ``^``/``$``/``\\A``/``\\z``, in any one value alone; ALLOW, a match in the joined tool arguments,
  raw and normalised.
* ``not_contains``: ALLOW, no term in any view of any value. Restrictive: the exemption must come from
  the argument the rule concerns: the top-level arguments (all the values inside each) where
  ``contains_any`` or ``matches_regex`` hit, else the values under each of its ``tool_args_match``
  paths; the rule applies if one of them has no term in some view. Without such an argument, the tool
  arguments as a whole (never ``user_input``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agent_security.core.normalize import normalize_name, regex_text
from agent_security.core.policy.conditions import INDETERMINATE, ArgCondition, js_string, parse_tool_args_match
from agent_security.core.policy.models import RuleWhen
from agent_security.core.policy.patterns import CompiledPattern, compile_pattern, has_anchor
from agent_security.core.policy.view import KeywordTexts, RequestView, Terms, keyword_forms

__all__ = ["CompiledWhen"]

_MAX_CONCERNED = 1024  # strings under tool_args_match paths checked for an exemption, at most


class CompiledWhen:
    """A rule's ``when`` conditions, compiled (see the module docstring for their readings)."""

    __slots__ = ("anchored", "args", "contains", "labels", "not_contains", "regex", "restrictive")

    def __init__(self, when: RuleWhen, restrictive: bool) -> None:
        self.restrictive = restrictive
        self.contains = Terms(when.contains_any) if when.contains_any else None
        self.not_contains = Terms(when.not_contains) if when.not_contains else None
        self.regex: CompiledPattern | None = (
            compile_pattern(when.matches_regex) if when.matches_regex is not None else None
        )
        self.anchored = when.matches_regex is not None and has_anchor(when.matches_regex)
        self.labels = frozenset(normalize_name(x) for x in when.data_labels_any or ())
        self.args: tuple[ArgCondition, ...] = (
            parse_tool_args_match(when.tool_args_match) if when.tool_args_match is not None else ()
        )

    @property
    def trivial(self) -> bool:
        return (
            self.contains is None
            and self.not_contains is None
            and self.regex is None
            and not self.labels
            and not self.args
        )

    # -- contains_any ---------------------------------------------------------------------------------

    def _contains(self, view: RequestView) -> bool | None:
        assert self.contains is not None
        if self.restrictive:
            hit = self.contains.found(view, either=True)
        else:
            hit = self.contains.found(view.args_keywords, either=False)
        if hit:
            return True
        return INDETERMINATE if view.truncated else False

    # -- matches_regex --------------------------------------------------------------------------------

    def _regex(self, view: RequestView) -> bool | None:
        pattern = self.regex
        assert pattern is not None
        undecided = INDETERMINATE if view.truncated else False
        either = self.restrictive

        def on(text: str) -> bool | None:  # not searched (over the input limit): indeterminate
            hit = pattern.matches(text)
            return undecided if hit is False else hit

        raw, norm = view.regex_texts if either else view.args_regex_texts
        result = on(raw)
        if result is either:
            return result
        if norm is not raw:
            second = on(norm)
            if second is either:
                return second
            if second is INDETERMINATE:
                result = INDETERMINATE
        if either and self.anchored:
            for index in range(len(view.values)):
                if self._regex_on_value(view, index):
                    return True
        return result

    def _regex_on_value(self, view: RequestView, index: int) -> bool:
        pattern = self.regex
        assert pattern is not None
        value = view.values[index]
        if pattern.matches(value):
            return True
        norm = regex_text(value)
        return norm != value and bool(pattern.matches(norm))

    def _regex_on_group(self, view: RequestView, group: tuple[int, int]) -> bool:
        pattern = self.regex
        assert pattern is not None
        joined = " ".join(view.values[group[0] : group[1]])
        if pattern.matches(joined) or pattern.matches(regex_text(joined)):
            return True
        return self.anchored and any(self._regex_on_value(view, i) for i in range(*group))

    # -- not_contains ---------------------------------------------------------------------------------

    def _not_contains(self, view: RequestView) -> bool | None:
        terms = self.not_contains
        assert terms is not None
        if not self.restrictive:  # ALLOW: no term anywhere, in any view
            if terms.found(view, either=True):
                return False
            return INDETERMINATE if view.truncated else True
        concerned = self._concerned(view)
        if concerned is not None:  # applies unless every concerned argument carries the exemption
            return not all(terms.found(forms, either=False) for forms in concerned)
        if terms.found(view.args_keywords, either=False):
            return False
        return INDETERMINATE if view.truncated else True

    def _concerned(self, view: RequestView) -> Iterator[KeywordTexts] | None:
        """The keyword texts of the arguments the rule concerns, or ``None`` for none."""
        contains = self.contains
        if contains is not None or self.regex is not None:
            hits = [
                group
                for group in view.groups
                if (contains is not None and contains.found(view.group_forms(group), either=True))
                or (self.regex is not None and self._regex_on_group(view, group))
            ]
            return iter([view.group_forms(g) for g in hits]) if hits else None
        if self.args:
            strings = [list(_strings(cond, view.request.action.tool_args)) for cond in self.args]
            concerned = [KeywordTexts(*keyword_forms(s)) for s in strings if s]
            if concerned:
                return iter(concerned)
        return None

    # -- all conditions -------------------------------------------------------------------------------

    def evaluate(self, view: RequestView) -> bool | None:
        result: bool | None = True
        if self.labels and self.labels.isdisjoint(view.labels):
            return False
        for cond in self.args:
            r = cond.evaluate(view.request.action.tool_args, restrictive=self.restrictive)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        if self.contains is not None:
            r = self._contains(view)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        if self.regex is not None:
            r = self._regex(view)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        if self.not_contains is not None:
            r = self._not_contains(view)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        return result

    def condition_results(self, view: RequestView) -> list[tuple[str, bool | None]]:
        """Every condition's own result, in evaluation order (for ``PolicyEngine.explain``)."""
        out: list[tuple[str, bool | None]] = []
        if self.labels:
            out.append(("when.data_labels_any", not self.labels.isdisjoint(view.labels)))
        for cond in self.args:
            out.append(
                (
                    f"when.tool_args_match.{cond.path}",
                    cond.evaluate(view.request.action.tool_args, restrictive=self.restrictive),
                )
            )
        if self.contains is not None:
            out.append(("when.contains_any", self._contains(view)))
        if self.regex is not None:
            out.append(("when.matches_regex", self._regex(view)))
        if self.not_contains is not None:
            out.append(("when.not_contains", self._not_contains(view)))
        return out


def _strings(cond: ArgCondition, args: Mapping[str, Any]) -> Iterator[str]:
    """The string forms of the scalar values under a condition's path (bounded)."""
    count = 0
    found, _ = cond.values(args)
    stack = list(reversed(found))
    while stack and count < _MAX_CONCERNED:
        node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list | tuple):
            stack.extend(reversed(node))
        else:
            text = js_string(node)
            if text is not None:
                count += 1
                yield text
