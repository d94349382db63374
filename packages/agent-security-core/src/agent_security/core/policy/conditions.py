"""``tool_args_match``: operators, dotted paths and three-valued results.

Each key of ``tool_args_match`` is a path into the tool arguments (``"amount"``,
``"customer.address.country"``, ``"items.0.sku"``). A dotted path also names a top-level key spelled
with the dots (Agent-SPM looked up top-level keys only); when both exist, the condition is evaluated on
both, and a DENY or approval-like rule applies if either matches, an ALLOW rule only if both do (a
caller cannot hide the nested value behind a decoy key).

Each value is either a literal (meaning ``eq``) or an *operator object* whose keys are all operators
(several operators are ANDed)::

    eq neq gt gte lt lte in not_in regex

Results are three-valued: ``True``, ``False`` or :data:`INDETERMINATE` (``None``) when the argument is
present but cannot be compared (``{"gt": 1000}`` against ``"lots"`` or a list; ``regex`` against an
object). The engine then fails closed: a DENY or approval-like rule still applies, an ALLOW rule does
not.

Comparisons:

* a number and a numeric string compare as numbers (``"5000"`` is greater than 1000: Agent-SPM's W11
  let a string amount skip a ``gt`` approval rule);
* ``gt``/``gte``/``lt``/``lte`` need both sides numeric (booleans are not numbers);
* ``eq``/``neq``/``in``/``not_in`` compare JSON values: strings exactly (case-sensitive), numbers by
  value, booleans only with booleans, ``null`` with ``null``, arrays and objects element by element;
* ``regex`` runs the RE2 pattern (case-insensitive) on a string, number or boolean argument;
* a missing argument is not equal to anything: ``eq``/``in``/``regex``/ordering operators are false,
  ``neq``/``not_in`` are true.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent_security.core.normalize import regex_text
from agent_security.core.policy.patterns import CompiledPattern, compile_pattern
from agent_security.core.policy.readings import Number, as_number, loose_equal, loose_text, unwrap

__all__ = [
    "INDETERMINATE",
    "MAX_PATH_SEGMENTS",
    "OPERATORS",
    "ArgCondition",
    "ArgTest",
    "ConditionError",
    "as_number",
    "combine_results",
    "js_string",
    "json_equal",
    "normalised_value",
    "parse_tool_args_match",
]

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "regex")
ORDERING = frozenset({"gt", "gte", "lt", "lte"})
INDETERMINATE = None
MAX_PATH_SEGMENTS = 20
_MISSING = object()
_MAX_NORMALISE_DEPTH = 64  # json_equal compares no deeper
_MAX_DEEP_NODES = 1 << 20


class ConditionError(ValueError):
    """A ``tool_args_match`` entry that cannot be used; ``subpath`` locates it below the field."""

    def __init__(self, message: str, subpath: str) -> None:
        self.subpath = subpath
        super().__init__(message)


def js_string(value: Any) -> str | None:
    """The string JavaScript's ``String()`` gives for a JSON scalar (``None`` for null/containers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    return None


def json_equal(a: Any, b: Any, _depth: int = 0) -> bool:
    """Equality of JSON values as documented in the module docstring (never raises)."""
    if _depth > 64:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None and not (isinstance(a, str) and isinstance(b, str)):
        return na == nb
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k], _depth + 1) for k in a)
    if _is_seq(a) and _is_seq(b):
        return len(a) == len(b) and all(json_equal(x, y, _depth + 1) for x, y in zip(a, b, strict=True))
    return False


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


@dataclass(frozen=True, slots=True)
class ArgTest:
    """One operator applied to one argument."""

    op: str
    operand: Any
    number: Number | None = None
    pattern: CompiledPattern | None = None
    normalised_operand: Any = _MISSING
    """The operand with its strings normalised (:func:`normalised_value`); missing when the same."""

    def test(self, actual: Any, *, normalised: bool = False) -> bool | None:
        """This operator on ``actual``; ``normalised``: ``actual`` is the normalised view, compare it with
        the normalised operand."""
        op = self.op
        if actual is _MISSING:
            return op in ("neq", "not_in")
        operand = self.operand
        if normalised and self.normalised_operand is not _MISSING:
            operand = self.normalised_operand
        if op == "eq":
            return json_equal(actual, operand)
        if op == "neq":
            return not json_equal(actual, operand)
        if op == "in":
            return any(json_equal(actual, x) for x in operand)
        if op == "not_in":
            return not any(json_equal(actual, x) for x in operand)
        if op == "regex":
            text = js_string(actual)
            if text is None:
                return INDETERMINATE
            assert self.pattern is not None
            return self.pattern.matches(text)  # indeterminate beyond the pattern's input limit
        return self._order(as_number(actual))

    def test_loose(self, actual: Any) -> bool | None:
        """This operator on the loose reading of ``actual`` (see :mod:`.readings`)."""
        op = self.op
        if actual is _MISSING:
            return op in ("neq", "not_in")
        if op == "eq":
            return loose_equal(actual, self.operand)
        if op == "neq":
            return not loose_equal(actual, self.operand)
        if op == "in":
            return any(loose_equal(actual, x) for x in self.operand)
        if op == "not_in":
            return not any(loose_equal(actual, x) for x in self.operand)
        actual = unwrap(actual)
        if op == "regex":
            text = js_string(actual)
            if text is None:
                return INDETERMINATE
            assert self.pattern is not None
            return self.pattern.matches(loose_text(text))
        return self._order(as_number(actual))

    def _order(self, number: Number | None) -> bool | None:
        if number is None:
            return INDETERMINATE
        limit = self.number
        assert limit is not None
        op = self.op
        if op == "gt":
            return number > limit
        if op == "gte":
            return number >= limit
        if op == "lt":
            return number < limit
        return number <= limit


_MAX_READINGS = 64
"""Values one path may name (literal dotted keys, list elements); more make the condition indeterminate."""
_MAX_FAN_OUT = 1024
"""Elements of a list a path fans out over; a longer list makes the condition indeterminate."""


@dataclass(frozen=True, slots=True)
class ArgCondition:
    """All the tests on one argument path (ANDed)."""

    path: str
    segments: tuple[str, ...]
    tests: tuple[ArgTest, ...]
    plain: bool = True
    """No operand changes under normalisation."""
    deep_nodes: int = 0
    """Values (at any depth) of the largest array or object operand of an equality test: strings inside
    an argument of at most that size are normalised too (a larger one cannot equal any operand)."""
    bool_operands: bool = False
    """An equality operand is or holds a boolean (a number then reads differently loosely)."""

    @property
    def holds_when_missing(self) -> bool:
        """Whether the tests hold on a missing argument (only ``neq``/``not_in`` tests)."""
        return all(t.op in ("neq", "not_in") for t in self.tests)

    @property
    def top_keys(self) -> tuple[str, ...]:
        """The top-level keys of ``tool_args`` through which this path can name a value."""
        segs = self.segments
        return tuple(".".join(segs[:j]) for j in range(1, len(segs) + 1))

    def resolve(self, args: Mapping[str, Any]) -> Any:
        """The argument at this path read strictly (nested objects, list indices), or the private missing
        marker. Other readings (literal dotted keys, lists) are in :meth:`values`."""
        current: Any = args
        for seg in self.segments:
            if isinstance(current, Mapping):
                if seg not in current:
                    return _MISSING
                current = current[seg]
            elif _is_seq(current) and seg.isdigit() and len(seg) <= 9:
                index = int(seg)
                if index >= len(current):
                    return _MISSING
                current = current[index]
            else:
                return _MISSING
        return current

    def values(self, args: Mapping[str, Any]) -> tuple[list[Any], bool]:
        """Every value this path names, and whether there were more than could be read.

        A path reads two ways where the arguments allow it: a run of its segments may be one key spelled
        with the dots (``{"options.force": ...}`` or ``{"a": {"b.c": ...}}``), and a segment that is not
        an index, met at a list, is read in every element (``items.sku`` names the ``sku`` of each item).
        The missing marker alone when the path names nothing.
        """
        found: list[Any] = []
        overflow = self._collect(args, 0, found)
        if not found:
            found.append(_MISSING)
        return found, overflow

    def _collect(self, node: Any, i: int, found: list[Any]) -> bool:
        segs = self.segments
        if i == len(segs):
            if len(found) >= _MAX_READINGS:
                return True
            found.append(node)
            return False
        overflow = False
        if isinstance(node, Mapping):
            key = segs[i]
            for j in range(i + 1, len(segs) + 1):
                if j > i + 1:
                    key = key + "." + segs[j - 1]
                if key in node:
                    overflow = self._collect(node[key], j, found) or overflow
        elif _is_seq(node):
            seg = segs[i]
            if seg.isdigit() and len(seg) <= 9:
                index = int(seg)
                if index < len(node):
                    overflow = self._collect(node[index], i + 1, found)
            else:
                if len(node) > _MAX_FAN_OUT:
                    return True
                for element in node:
                    overflow = self._collect(element, i, found) or overflow
        return overflow

    def evaluate(self, args: Mapping[str, Any], *, restrictive: bool = True) -> bool | None:
        """The tests on every value this path names (see :meth:`values`), each read as written,
        normalised and loosely. A ``restrictive`` (DENY, approval-like) rule's condition holds if it holds
        on any reading, an ALLOW rule's only if it holds on all of them."""
        if len(self.segments) == 1:  # one value (the usual case)
            value = args.get(self.segments[0], _MISSING)
            if not isinstance(value, list | tuple):
                return self._evaluate_one(value, restrictive)
        found, overflow = self.values(args)
        results = [self._evaluate_one(v, restrictive) for v in found]
        if overflow:
            results.append(INDETERMINATE)
        return combine_results(results, either=restrictive)

    def _evaluate_one(self, actual: Any, either: bool) -> bool | None:
        result = self._tests(actual, normalised=False)
        if result is either or actual is _MISSING:  # decided, or every reading of "missing" agrees
            return result
        kind = actual.__class__
        if (kind is int or kind is float) and self.plain and not self.bool_operands:
            return result  # a number reads the same loosely and normalised
        loose = self._loose(actual)
        if loose is either:
            return loose
        if actual.__class__ is not str and self.deep_nodes == 0 and self.plain:
            return combine_results((result, loose), either=either)  # nothing to normalise
        deep = self.deep_nodes > 0 and _size(actual, self.deep_nodes) <= self.deep_nodes
        alternative = normalised_value(actual, deep=deep)
        if alternative is actual and self.plain:
            return combine_results((result, loose), either=either)
        return combine_results((result, loose, self._tests(alternative, normalised=True)), either=either)

    def _tests(self, actual: Any, *, normalised: bool) -> bool | None:
        result: bool | None = True
        for test in self.tests:
            r = test.test(actual, normalised=normalised)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        return result

    def _loose(self, actual: Any) -> bool | None:
        result: bool | None = True
        for test in self.tests:
            r = test.test_loose(actual)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        return result


def normalised_value(value: Any, *, deep: bool = True, _depth: int = 0) -> Any:
    """``value`` with its strings in normalised form (invisible characters removed, NFKC; case kept, as
    :func:`~agent_security.core.policy.normalize.regex_text`), inside arrays and objects too when
    ``deep``. The same object when nothing changes."""
    if isinstance(value, str):
        text = regex_text(value)
        return value if text == value else text
    if not deep or _depth >= _MAX_NORMALISE_DEPTH:
        return value
    if isinstance(value, Mapping):
        items = {k: normalised_value(v, _depth=_depth + 1) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if _is_seq(value):
        seq = [normalised_value(v, _depth=_depth + 1) for v in value]
        return value if all(a is b for a, b in zip(seq, value, strict=True)) else seq
    return value


def combine_results(results: Iterable[bool | None], *, either: bool) -> bool | None:
    """Three-valued OR (``either``) or AND of ``results``, stopping at the first deciding one."""
    outcome: bool | None = not either
    for r in results:
        if r is either:
            return either
        if r is INDETERMINATE:
            outcome = INDETERMINATE
    return outcome


def _size(value: Any, limit: int) -> int:
    """Values in ``value`` at any depth (itself included), counting stops past ``limit``."""
    count = 0
    stack = [value]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, Mapping) or _is_seq(node):
            if count + len(stack) + len(node) > limit:
                return limit + 1
            stack.extend(node.values() if isinstance(node, Mapping) else node)
    return count


def _operand_number(op: str, operand: Any, where: str) -> Number:
    number = as_number(operand)
    if number is None:
        raise ConditionError(f"operator {op!r} needs a number, got {type(operand).__name__} {_short(operand)}", where)
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_test(op: str, operand: Any, where: str) -> ArgTest:
    if op in ORDERING:
        return ArgTest(op, operand, number=_operand_number(op, operand, where))
    if op in ("in", "not_in"):
        if not isinstance(operand, list | tuple):
            raise ConditionError(f"operator {op!r} needs a list of values, got {type(operand).__name__}", where)
        return _with_normalised(ArgTest(op, tuple(operand)))
    if op == "regex":
        if not isinstance(operand, str):
            raise ConditionError(f"operator 'regex' needs a string pattern, got {type(operand).__name__}", where)
        try:
            pattern = compile_pattern(operand)
        except ValueError as exc:
            raise ConditionError(str(exc), where) from None
        return ArgTest(op, operand, pattern=pattern)
    return _with_normalised(ArgTest(op, operand))


def _with_normalised(test: ArgTest) -> ArgTest:
    normalised = normalised_value(test.operand)
    if normalised is test.operand:
        return test
    return ArgTest(test.op, test.operand, normalised_operand=normalised)


def parse_tool_args_match(raw: Mapping[str, Any]) -> tuple[ArgCondition, ...]:
    """Validate and compile a ``tool_args_match`` mapping; :class:`ConditionError` names the bad entry."""
    conditions = []
    for path, expected in raw.items():
        if not isinstance(path, str) or not path:
            raise ConditionError("argument paths must be non-empty strings", str(path))
        segments = tuple(path.split("."))
        if any(not s for s in segments):
            raise ConditionError(f"argument path {path!r} has an empty segment", path)
        if len(segments) > MAX_PATH_SEGMENTS:
            raise ConditionError(f"argument path has more than {MAX_PATH_SEGMENTS} segments", path)
        if isinstance(expected, Mapping):
            if not expected:
                raise ConditionError('empty operator object (use {"eq": {}} to compare with an empty object)', path)
            tests = []
            for op, operand in expected.items():
                if op not in OPERATORS:
                    close = difflib.get_close_matches(str(op), OPERATORS, n=1, cutoff=0.6)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise ConditionError(
                        f"unknown operator {op!r} ({hint}expected one of: {', '.join(OPERATORS)})", f"{path}.{op}"
                    )
                tests.append(_parse_test(op, operand, f"{path}.{op}"))
            conditions.append(_condition(path, segments, tuple(tests)))
        else:
            conditions.append(_condition(path, segments, (_with_normalised(ArgTest("eq", expected)),)))
    return tuple(conditions)


def _holds_bool(value: Any, depth: int = 0) -> bool:
    if isinstance(value, bool):
        return True
    if depth > _MAX_NORMALISE_DEPTH:
        return True
    if isinstance(value, Mapping):
        return any(_holds_bool(v, depth + 1) for v in value.values())
    if _is_seq(value):
        return any(_holds_bool(v, depth + 1) for v in value)
    return False


def _condition(path: str, segments: tuple[str, ...], tests: tuple[ArgTest, ...]) -> ArgCondition:
    return ArgCondition(
        path,
        segments,
        tests,
        bool_operands=any(_holds_bool(x) for t in tests for x in _equality_operands(t)),
        plain=all(t.normalised_operand is _MISSING for t in tests),
        deep_nodes=max(
            (
                _size(x, _MAX_DEEP_NODES)
                for t in tests
                for x in _equality_operands(t)
                if isinstance(x, Mapping) or _is_seq(x)
            ),
            default=0,
        ),
    )


def _equality_operands(test: ArgTest) -> tuple[Any, ...]:
    if test.op in ("eq", "neq"):
        return (test.operand,)
    if test.op in ("in", "not_in"):
        return tuple(test.operand)
    return ()
