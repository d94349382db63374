"""Tool arguments as the policy sees them: a bounded, deep, exact-typed JSON copy of hostile input.

:func:`freeze_json` copies what a caller or a plugin hands over into plain JSON data (exact built-in
types only, within :data:`MAX_ARGS_DEPTH` levels, :data:`MAX_ARGS_ITEMS` values and
:data:`MAX_TOTAL_CHARS` characters), so that nothing the policy compares can behave differently from the
value it shows, and nothing the caller keeps can change it afterwards. :func:`same_json` tells whether
such a copy can stand for the original, and :func:`strict_json_loads` parses JSON text refusing what two
readers could take differently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from agent_security.core._speedups.freeze import NOT_PLAIN, Bounds, freeze_plain

__all__ = [
    "MAX_ARGS_DEPTH",
    "MAX_ARGS_ITEMS",
    "MAX_INT_BITS",
    "MAX_STRING",
    "MAX_TOTAL_CHARS",
    "InputTooLarge",
    "InvalidArguments",
    "canonical_json",
    "freeze_json",
    "same_json",
    "sequence_items",
    "strict_json_loads",
]

MAX_ARGS_DEPTH = 64
MAX_ARGS_ITEMS = 100_000
MAX_STRING = 4 * 1024 * 1024
MAX_TOTAL_CHARS = 16 * 1024 * 1024
MAX_INT_BITS = 4096 * 3  # about 3700 decimal digits: below Python's int-to-str limit, so hashing cannot fail
_BOUNDS = Bounds(MAX_ARGS_DEPTH, MAX_ARGS_ITEMS, MAX_STRING, MAX_TOTAL_CHARS, MAX_INT_BITS)


class InvalidArguments(ValueError):
    """Tool arguments that cannot be represented faithfully as the JSON the policy sees."""


class InputTooLarge(InvalidArguments):
    """Tool arguments beyond the documented bounds (depth, item count, string size)."""


def freeze_json(value: Any) -> Any:
    """Deep-copy ``value`` into plain JSON-compatible data, enforcing bounds without recursion.

    Mappings become dicts with string keys, sequences (list/tuple/set) become lists, ``bytes`` are
    decoded as UTF-8 with replacement, non-finite floats and any other object become their ``str()``.
    The copy holds exact built-in types only: a subclass of ``str``, ``int``, ``float``, ``dict``,
    ``list``, ``tuple`` or ``set`` is read through the base type (its real contents, whatever its own
    ``items``, ``__iter__``, ``__eq__`` or ``lower`` say) and copied as the base type, so nothing the
    policy compares can behave differently from the value it shows. An iterator or generator raises
    :class:`InvalidArguments`: its values cannot be checked without consuming them.
    Raises :class:`InputTooLarge` past :data:`MAX_ARGS_DEPTH` levels, :data:`MAX_ARGS_ITEMS` containers
    and scalars, :data:`MAX_TOTAL_CHARS` characters of strings in all (keys included, whatever their
    type) or an integer wider than :data:`MAX_INT_BITS`; :class:`InvalidArguments` when two keys of one
    mapping become the same string (``{1: a, "1": b}``): merging them would show the policy other
    arguments than the tool receives. Sets are ordered by their frozen JSON, after the bounds applied.
    """
    frozen = freeze_plain(value, _BOUNDS)
    if frozen is not NOT_PLAIN:
        return frozen
    try:
        return _freeze_walk(value)
    except InvalidArguments:
        raise
    except Exception as exc:  # an argument object whose str(), items() or iteration raised
        raise InvalidArguments(f"an argument could not be read ({type(exc).__name__})") from exc


def _freeze_walk(value: Any) -> Any:
    """The general case of :func:`freeze_json`."""
    items = 0
    chars = 0

    def scalar(v: Any) -> Any:
        nonlocal chars
        if v is None or isinstance(v, bool):
            return v
        v = _exact(v)  # a subclass of int, float or str as its exact type, whatever it overrides
        if type(v) is int:
            if v.bit_length() > MAX_INT_BITS:
                raise InputTooLarge(f"an integer argument is wider than {MAX_INT_BITS} bits")
            return v
        if type(v) is float:
            return v if math.isfinite(v) else str(v)
        v = _text(v)
        if len(v) > MAX_STRING:
            raise InputTooLarge(f"a string argument is {len(v)} characters; the limit is {MAX_STRING}")
        chars += len(v)
        if chars > MAX_TOTAL_CHARS:
            raise InputTooLarge(f"arguments exceed {MAX_TOTAL_CHARS} characters in all")
        return v

    def container(v: Any) -> dict[str, Any] | list[Any] | None:
        if isinstance(v, Mapping):
            return {}
        if isinstance(v, list | tuple | set | frozenset):
            return []
        if isinstance(v, Iterator):
            raise InvalidArguments(
                f"an argument is an iterator ({type(v).__name__}): its values cannot be "
                "checked without consuming them; pass a list"
            )
        return None

    root = container(value)
    if root is None:
        return scalar(value)
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    unordered: list[list[Any]] = []  # frozen sets, sorted once everything inside them is frozen
    while stack:
        src, dst, depth = stack.pop()
        if depth > MAX_ARGS_DEPTH:
            raise InputTooLarge(f"arguments are nested deeper than {MAX_ARGS_DEPTH} levels")
        if isinstance(src, set | frozenset):
            if items + len(src) > MAX_ARGS_ITEMS:
                raise InputTooLarge(f"arguments hold more than {MAX_ARGS_ITEMS} values")
            unordered.append(dst)
        for key, child in _members(src):
            items += 1
            if items > MAX_ARGS_ITEMS:
                raise InputTooLarge(f"arguments hold more than {MAX_ARGS_ITEMS} values")
            sub = container(child)
            out = scalar(child) if sub is None else sub
            if isinstance(dst, dict):
                name = scalar(key if isinstance(key, str) else str(_exact(key)))
                if name in dst:
                    raise InvalidArguments("two argument keys have the same string form")
                dst[name] = out
            else:
                dst.append(out)
            if sub is not None:
                stack.append((child, sub, depth + 1))
    for frozen in reversed(unordered):  # inner sets were created later: they are sorted first
        frozen.sort(key=canonical_json)
    return root


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def strict_json_loads(text: str | bytes) -> Any:
    """``json.loads`` refusing what two readers could take differently: a key given twice (``json``
    keeps the last one silently, another parser the first) and ``NaN`` / ``Infinity`` (not JSON).
    Raises ``ValueError`` (``json.JSONDecodeError`` for syntax) naming the problem."""
    return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant)


def _exact(v: Any) -> Any:
    """``v`` as its exact built-in scalar type when it is a subclass of one (else ``v``)."""
    if isinstance(v, bool) or type(v) in (str, int, float):
        return v
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int.__index__(v)
    if isinstance(v, float):
        return float.__float__(v)
    return v


def _text(v: Any) -> str:
    """The text the policy sees for a scalar that is not a number: an exact ``str`` (a subclass copied
    through ``str``), bytes-like values decoded as UTF-8 with replacement, anything else its ``str()``."""
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, bytes):
        return bytes.decode(v, "utf-8", "replace")
    if isinstance(v, bytearray):
        return bytearray.decode(v, "utf-8", "replace")
    if isinstance(v, memoryview):
        return v.tobytes().decode("utf-8", "replace")
    return str(v)


def sequence_items(value: Any) -> Iterator[Any] | None:
    """The items of a ``list``, ``tuple``, ``set`` or ``frozenset`` read through the base type (what a
    subclass holds, whatever its own ``__iter__`` says), else ``None``."""
    if isinstance(value, list):
        return list.__iter__(value)
    if isinstance(value, tuple):
        return tuple.__iter__(value)
    if isinstance(value, set):
        return set.__iter__(value)
    if isinstance(value, frozenset):
        return frozenset.__iter__(value)
    return None


def _members(src: Any) -> Iterable[tuple[Any, Any]]:
    """The (key, child) pairs of a container, read through its base type when it is a built-in one (a
    subclass cannot show the policy other contents than the ones it holds)."""
    if isinstance(src, dict):
        return dict.items(src)
    if isinstance(src, Mapping):
        return src.items()
    items = sequence_items(src)
    assert items is not None  # the walk only descends into mappings, lists, tuples and sets
    return enumerate(items)


def same_json(original: Any, frozen: Any) -> bool:
    """True when ``frozen`` (what :func:`freeze_json` made of ``original``) can stand for ``original``: at
    every level the same exact JSON type (``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
    ``float``, ``bool``, ``None``) and an equal value. False for anything the copy changed (a tuple that
    became a list, bytes, a subclass, an object shown by its ``str()``)."""
    stack = [(original, frozen)]
    while stack:
        a, b = stack.pop()
        kind = type(a)
        if kind is not type(b):
            return False
        if kind is dict:
            if len(a) != len(b):
                return False
            for key, child in a.items():
                if type(key) is not str or key not in b:
                    return False
                stack.append((child, b[key]))
        elif kind is list:
            if len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif a is None:
            continue
        elif kind not in (str, int, float, bool) or a != b:
            return False
    return True


def canonical_json(value: Any) -> str:
    """Deterministic compact JSON (sorted keys) of already-frozen data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
