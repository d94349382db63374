"""The *loose* reading of an argument value: how a tool that coerces its input reads it.

A tool rarely receives exactly the JSON type its schema names: MCP servers and pydantic coerce
``"true"``, ``1`` or ``"yes"`` to ``True``, many tools compare strings case-insensitively and strip
surrounding whitespace, and a one-element list often stands for its element. ``tool_args_match`` reads
each value both as written and loosely (see :mod:`agent_security.core.policy.conditions`); a DENY or
approval-like rule applies if either reading fires it, an ALLOW rule only if both do.

Loose equality (:func:`loose_equal`):

* a one-element array is read as its element, on either side (``["/etc/passwd"]`` is ``"/etc/passwd"``);
* when either side is a boolean, both are read as booleans: ``true``, ``1``, and the strings ``1``,
  ``true``, ``yes``, ``on``, ``t``, ``y`` (any case, surrounding spaces ignored) are true; ``false``,
  ``0``, ``0``, ``false``, ``no``, ``off``, ``f``, ``n`` are false (pydantic's lax booleans); anything
  else is no boolean and equals none;
* strings compare after :func:`~agent_security.core.normalize.normalize_text` (invisible characters
  removed, NFKC, case folded, whitespace collapsed) with surrounding spaces removed;
* numbers and numeric strings compare by value, ``null`` only with ``null``, arrays and objects element
  by element (object keys exactly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from agent_security.core.normalize import normalize_text, regex_text

__all__ = [
    "MAX_NUMERIC_STRING",
    "Number",
    "as_bool",
    "as_number",
    "loose_equal",
    "loose_string",
    "loose_text",
    "unwrap",
]

MAX_NUMERIC_STRING = 64
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})
_MAX_DEPTH = 64
_MAX_UNWRAP = 16


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


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def unwrap(value: Any) -> Any:
    """``value`` without enclosing one-element arrays (``[["x"]]`` is ``"x"``)."""
    for _ in range(_MAX_UNWRAP):
        if _is_seq(value) and len(value) == 1:
            value = value[0]
        else:
            break
    return value


def loose_string(text: str) -> str:
    """A string's loose form: normalised (NFKC, case folded, invisible characters removed, whitespace
    collapsed), surrounding spaces removed."""
    return normalize_text(text).strip(" ")


def loose_text(text: str) -> str:
    """The form a ``regex`` test reads loosely: invisible characters removed, NFKC, surrounding
    whitespace removed (the pattern is case-insensitive already)."""
    return regex_text(text).strip()


def as_bool(value: Any) -> bool | None:
    """``value`` read as a boolean (see the module docstring), or ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        if value == 1:
            return True
        if value == 0:
            return False
        return None
    if isinstance(value, str) and len(value) <= 64:
        text = loose_string(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def loose_equal(a: Any, b: Any, _depth: int = 0) -> bool:
    """Loose equality of two JSON values (never raises). Whatever :func:`json_equal` equates, this does."""
    if _depth > _MAX_DEPTH:
        return False
    a, b = unwrap(a), unwrap(b)
    if isinstance(a, bool) or isinstance(b, bool):
        ba, bb = as_bool(a), as_bool(b)
        return ba is not None and ba is bb
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str):
        return a == b or loose_string(a) == loose_string(b)
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(loose_equal(a[k], b[k], _depth + 1) for k in a)
    if _is_seq(a) and _is_seq(b):
        return len(a) == len(b) and all(loose_equal(x, y, _depth + 1) for x, y in zip(a, b, strict=True))
    return False
