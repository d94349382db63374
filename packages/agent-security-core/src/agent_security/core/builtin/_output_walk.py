"""Reading a tool's result for the output validator: every string it holds (keys included), within
bounds, and the parts of an exception a tool raised. A result that cannot be read within the bounds is
unscannable (and the validator treats it as a violation)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    ValuesView,
)
from typing import Any

from pydantic import BaseModel

from agent_security.core.arguments import MAX_ARGS_DEPTH, sequence_items

MAX_DEPTH = MAX_ARGS_DEPTH
"""Levels of nesting scanned (as for tool arguments); a deeper result is unscannable."""
MAX_ITEMS = 1_000_000
"""Values (containers, scalars, keys' owners) visited in one result, shared references counted each time."""
MAX_CHARS = 64 * 1024 * 1024
"""Characters of strings (keys included) scanned in one result, shared references counted each time."""
MAX_EXCEPTIONS = 32
"""Exceptions scanned when a tool raises: the one raised and those chained to it."""


class _Unscannable(Exception):
    pass


class _Walk:
    """Bounds shared by one walk of a result: values visited and characters seen (shared references
    count every time they are reached, so a result cannot multiply its size through them)."""

    __slots__ = ("chars", "items", "leaves")

    def __init__(self) -> None:
        self.items = 0
        self.chars = 0
        self.leaves: list[str] = []

    def visit(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Unscannable(f"nested deeper than {MAX_DEPTH} levels")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise _Unscannable(f"more than {MAX_ITEMS} values")

    def leaf(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > MAX_CHARS:
            raise _Unscannable(f"more than {MAX_CHARS} characters")
        self.leaves.append(text)
        return text


def _bytes_text(value: bytes | bytearray | memoryview) -> str:
    return bytes(value).decode("utf-8", errors="replace")


def _scalar(value: Any) -> tuple[Any, str] | None:
    """``(exact value, JSON text)`` of ``None``, a bool, an int or a float, else ``None``."""
    if value is None:
        return None, "null"
    if isinstance(value, bool):
        return value, "true" if value else "false"
    if isinstance(value, int):
        exact = int.__index__(value)
        return exact, int.__repr__(exact)  # ValueError past Python's int-to-str limit: unscannable
    if isinstance(value, float):
        number = float.__float__(value)
        if math.isfinite(number):
            return number, float.__repr__(number)
        return number, "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    return None


def _key_text(key: Any) -> str:
    """A mapping key as the JSON text shows it (``str()`` for a key JSON has no form for)."""
    if isinstance(key, str):
        return str.__str__(key)
    scalar = _scalar(key)
    return scalar[1] if scalar is not None else str(key)


def _sequence_items(value: Any) -> Iterable[Any] | None:
    """The items of a built-in sequence or set (read through the base type), else ``None``."""
    items = sequence_items(value)
    if items is not None:
        return items
    if isinstance(value, deque | KeysView | ValuesView | ItemsView):  # dict views too (a copy, as a list)
        return iter(value)
    return None


def _record_fields(value: Any) -> Iterable[Any] | None:
    """The field values of a dataclass instance or a pydantic model, else ``None``."""
    if isinstance(value, BaseModel):
        return [field for _, field in BaseModel.__iter__(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    return None


def _lazy(value: Any) -> str | None:
    """What ``value`` is, when its contents cannot be seen without consuming or running it (an iterator or
    generator, sync or async, a coroutine or other awaitable, a file-like object with ``read()``), else
    ``None``. Its ``str()`` shows none of them (``<generator object ...>``)."""
    if isinstance(value, Iterator | AsyncIterator | Awaitable):
        kind = "an iterator" if isinstance(value, Iterator | AsyncIterator) else "an awaitable"
    elif callable(getattr(type(value), "read", None)):
        kind = "a file-like object"
    else:
        return None
    return f"{kind} ({type(value).__name__})"


def _flatten(value: Any, walk: _Walk, depth: int = 0) -> Any:
    """A plain JSON-like copy of ``value`` (what its JSON text is written from), recording in ``walk``
    every string it holds, keys included, as it is (not escaped)."""
    walk.visit(depth)
    if isinstance(value, str):
        return walk.leaf(str.__str__(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return walk.leaf(_bytes_text(value))
    scalar = _scalar(value)
    if scalar is not None:
        walk.leaf(scalar[1])
        return scalar[0]
    if isinstance(value, Mapping):
        pairs = dict.items(value) if isinstance(value, dict) else value.items()
        out: dict[str, Any] = {}
        for key, child in pairs:
            name = walk.leaf(key if type(key) is str else _key_text(key))
            out[name] = _flat_child(child, walk, depth + 1)
        return out
    items = _sequence_items(value)
    if items is not None:
        return [_flat_child(child, walk, depth + 1) for child in items]
    lazy = _lazy(value)
    if lazy is not None:
        raise _Unscannable(f"{lazy} cannot be scanned without consuming it; return a list, str or bytes")
    text = walk.leaf(str(value))  # an object shows its str(), as json.dumps(default=str) did
    fields = _record_fields(value)
    if fields is not None:  # its str() shows its strings escaped (repr): scan the fields as they are too
        for field in fields:
            _flatten(field, walk, depth + 1)
    return text


def _flat_child(child: Any, walk: _Walk, depth: int) -> Any:
    """:func:`_flatten` of a container's child, with the common exact ``str`` and ``int`` inlined."""
    kind = type(child)
    if kind is str or kind is int:
        walk.items += 1
        if walk.items > MAX_ITEMS:
            raise _Unscannable(f"more than {MAX_ITEMS} values")
        walk.leaf(child if kind is str else int.__repr__(child))
        return child
    return _flatten(child, walk, depth)


class _Scan:
    """What a result is scanned as: ``text`` (a ``str`` itself, else the JSON text, whose length is the
    size) and, for anything but a ``str``, the strings it holds as they are (``leaves``, also ``joined``
    one per line so they are searched in one pass)."""

    __slots__ = ("joined", "leaves", "text")

    def __init__(self, text: str, leaves: list[str]) -> None:
        self.text = text
        self.leaves = leaves
        joined = "\n".join(leaves)
        self.joined = joined if joined != text else ""


def _scan_texts(result: Any) -> _Scan:
    """A ``str`` is scanned as is and ``bytes`` decoded; anything else both as its JSON text (matches that
    span several values keep working) and as its strings, keys included, as they are, so escaping in the
    JSON form (a newline written ``\\n``, a quote ``\\"``) hides nothing."""
    if isinstance(result, str):
        text = str.__str__(result)
    elif isinstance(result, bytes | bytearray | memoryview):
        text = _bytes_text(result)
    else:
        text = None
    walk = _Walk()
    try:
        if text is not None:
            walk.visit(0)
            walk.leaf(text)
            return _Scan(text, [])
        plain = _flatten(result, walk)
        encoded = json.dumps(plain, ensure_ascii=False)
    except _Unscannable:
        raise
    except Exception as exc:  # a hostile or broken object (its str() or items() raised): not scannable
        raise _Unscannable(type(exc).__name__) from None
    return _Scan(encoded, walk.leaves)


def _exception_parts(error: BaseException) -> list[Any]:
    """What a caller can read from ``error`` and every exception chained to it (``__cause__``,
    ``__context__``, an exception group's members; at most :data:`MAX_EXCEPTIONS`): its ``str()``, its
    ``args``, its notes and its public attributes (``CalledProcessError.stderr``). Not its traceback."""
    parts: list[Any] = []
    seen: set[int] = set()
    todo = [error]
    while todo:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        if len(seen) > MAX_EXCEPTIONS:
            raise _Unscannable(f"more than {MAX_EXCEPTIONS} chained exceptions")
        try:
            attrs = {k: v for k, v in vars(exc).items() if isinstance(k, str) and not k.startswith("_")}
            parts.append([str(exc), list(exc.args), getattr(exc, "__notes__", None), attrs])
        except Exception as failure:  # its str(), args or __dict__ raised: not scannable
            raise _Unscannable(f"{type(failure).__name__} reading an exception") from None
        todo.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            todo.extend(exc.exceptions)
    return parts


def _buildable(cls: type[BaseException]) -> bool:
    """True when ``cls(*args)`` runs only Python's own code: a plain metaclass, and no class in its MRO
    outside the built-ins defines ``__new__`` or ``__init__`` (a subclass that only adds a name does not)."""
    if type(cls) is not type:
        return False
    return all(
        klass.__module__ == "builtins" or ("__new__" not in vars(klass) and "__init__" not in vars(klass))
        for klass in cls.__mro__
    )
