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

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from agent_security.core.policy.patterns import CompiledPattern, compile_pattern

__all__ = [
    "INDETERMINATE",
    "MAX_PATH_SEGMENTS",
    "OPERATORS",
    "ArgCondition",
    "ArgTest",
    "ConditionError",
    "as_number",
    "js_string",
    "json_equal",
    "parse_tool_args_match",
]

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "regex")
ORDERING = frozenset({"gt", "gte", "lt", "lte"})
INDETERMINATE = None
MAX_PATH_SEGMENTS = 20
MAX_NUMERIC_STRING = 64
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_MISSING = object()


class ConditionError(ValueError):
    """A ``tool_args_match`` entry that cannot be used; ``subpath`` locates it below the field."""

    def __init__(self, message: str, subpath: str) -> None:
        self.subpath = subpath
        super().__init__(message)


Number = int | float | Decimal


def as_number(value: Any) -> Number | None:
    """``value`` as a number if it is one (not a boolean) or a numeric string, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and len(value) <= MAX_NUMERIC_STRING:
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            try:
                return Decimal(text)
            except InvalidOperation:  # pragma: no cover - the regex only admits valid literals
                return None
    return None


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

    def test(self, actual: Any) -> bool | None:
        op = self.op
        if actual is _MISSING:
            return op in ("neq", "not_in")
        if op == "eq":
            return json_equal(actual, self.operand)
        if op == "neq":
            return not json_equal(actual, self.operand)
        if op == "in":
            return any(json_equal(actual, x) for x in self.operand)
        if op == "not_in":
            return not any(json_equal(actual, x) for x in self.operand)
        if op == "regex":
            text = js_string(actual)
            if text is None:
                return INDETERMINATE
            assert self.pattern is not None
            return self.pattern.search(text) is not None
        number = as_number(actual)
        if number is None:
            return INDETERMINATE
        limit = self.number
        assert limit is not None
        if op == "gt":
            return number > limit
        if op == "gte":
            return number >= limit
        if op == "lt":
            return number < limit
        return number <= limit


@dataclass(frozen=True, slots=True)
class ArgCondition:
    """All the tests on one argument path (ANDed)."""

    path: str
    segments: tuple[str, ...]
    tests: tuple[ArgTest, ...]

    def resolve(self, args: Mapping[str, Any]) -> Any:
        """The argument at this path (through nested objects and lists), or the private missing marker.
        A top-level key spelled with the dots is *not* this value; see :meth:`values`."""
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

    def values(self, args: Mapping[str, Any]) -> list[Any]:
        """Every value this path names: the nested value and, for a dotted path, a top-level key spelled
        with the dots (``{"options.force": ...}``). Both when both exist; the missing marker if neither."""
        found: list[Any] = []
        if len(self.segments) > 1 and self.path in args:
            found.append(args[self.path])
        nested = self.resolve(args)
        if nested is not _MISSING or not found:
            found.append(nested)
        return found

    def evaluate(self, args: Mapping[str, Any], *, restrictive: bool = True) -> bool | None:
        """The tests on every value this path names (see :meth:`values`). When there are two, a
        ``restrictive`` (DENY, approval-like) rule's condition holds if it holds on either, an ALLOW
        rule's only if it holds on both."""
        return _combine((self._evaluate_one(v) for v in self.values(args)), either=restrictive)

    def _evaluate_one(self, actual: Any) -> bool | None:
        result: bool | None = True
        for test in self.tests:
            r = test.test(actual)
            if r is False:
                return False
            if r is INDETERMINATE:
                result = INDETERMINATE
        return result


def _combine(results: Iterable[bool | None], *, either: bool) -> bool | None:
    """Three-valued OR (``either``) or AND of ``results``, stopping at the first deciding one."""
    outcome: bool | None = not either
    for r in results:
        if r is either:
            return either
        if r is INDETERMINATE:
            outcome = INDETERMINATE
    return outcome


def _operand_number(op: str, operand: Any, where: str) -> Number:
    number = as_number(operand)
    if number is None:
        raise ConditionError(f"operator {op!r} needs a number, got {type(operand).__name__} "
                             f"{_short(operand)}", where)
    return number


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_test(op: str, operand: Any, where: str) -> ArgTest:
    if op in ORDERING:
        return ArgTest(op, operand, number=_operand_number(op, operand, where))
    if op in ("in", "not_in"):
        if not isinstance(operand, list | tuple):
            raise ConditionError(f"operator {op!r} needs a list of values, got {type(operand).__name__}",
                                 where)
        return ArgTest(op, tuple(operand))
    if op == "regex":
        if not isinstance(operand, str):
            raise ConditionError(f"operator 'regex' needs a string pattern, got {type(operand).__name__}",
                                 where)
        try:
            pattern = compile_pattern(operand)
        except ValueError as exc:
            raise ConditionError(str(exc), where) from None
        return ArgTest(op, operand, pattern=pattern)
    return ArgTest(op, operand)


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
                raise ConditionError("empty operator object (use {\"eq\": {}} to compare with an empty "
                                     "object)", path)
            tests = []
            for op, operand in expected.items():
                if op not in OPERATORS:
                    raise ConditionError(f"unknown operator {op!r} (expected one of: "
                                         f"{', '.join(OPERATORS)})", f"{path}.{op}")
                tests.append(_parse_test(op, operand, f"{path}.{op}"))
            conditions.append(ArgCondition(path, segments, tuple(tests)))
        else:
            conditions.append(ArgCondition(path, segments, (ArgTest("eq", expected),)))
    return tuple(conditions)
