"""Reading one stored audit event strictly, and quoting text that came from a file.

A line (or a SQLite ``event_json``) is an event only if every reader would see the same event in it:

* no object holds a key twice (readers disagree on which value wins: Python's ``json`` and pydantic keep
  the last, others the first, so ``{"outcome": "DENY", ..., "outcome": "ALLOW"}`` would verify while
  showing DENY to some);
* no ``NaN``, ``Infinity`` or ``-Infinity`` (not JSON; many readers refuse them, others read them as
  numbers or null);
* every float is spelled as the writer spells it (``1e0`` or ``10E-1`` for ``1.0`` are refused: the hash,
  over RFC 8785's canonical form, cannot tell spellings apart);
* every field has its type, with no coercion (``"allowed": "yes"``, ``"sequence": "2"`` or
  ``"sequence": 2.0`` are refused, not read as ``True`` and ``2``).

Integers and floats of equal value (``1`` and ``1.0``) hash the same under RFC 8785, so changing one into
the other inside ``data`` cannot be detected by the chain: compare numbers by value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic_core
from pydantic import ValidationError

from agent_security.core.models import AuditEvent

__all__ = ["MalformedEvent", "parse_event", "plain", "safe"]

MAX_SHOWN = 80
"""Characters of file-supplied text a message shows."""


def safe(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` (text from a file) quoted for a message: control, format and other non-printable
    characters escaped as ``repr`` does (so an ANSI escape or a newline cannot reach a terminal), at most
    ``limit`` characters shown."""
    if isinstance(value, str):
        shown = repr(value[:limit])
        return shown + (f"... ({len(value)} characters)" if len(value) > limit else "")
    if isinstance(value, bytes):
        shown = repr(value[:limit])
        return shown + (f"... ({len(value)} bytes)" if len(value) > limit else "")
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() <= 64 else f"an integer of {value.bit_length()} bits"
    return f"a value of type {type(value).__name__}"


def plain(text: str, limit: int = MAX_SHOWN) -> str:
    """Like :func:`safe` without the quotes: for text woven into a sentence."""
    shown = repr(text[:limit])[1:-1]
    return shown + ("..." if len(text) > limit else "")


class MalformedEvent(ValueError):
    """A stored event that is not one strictly readable audit event; ``str()`` says which field and why."""


class _Unreadable:
    """Stands for a number the parser refused, until its path in the object is known."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedEvent(f"duplicate key {safe(key)}")
            seen.add(key)
    return out


def _constant(token: str) -> _Unreadable:
    return _Unreadable(f"{token} is not a JSON number")


def _float(token: str) -> float | _Unreadable:
    value = float(token)
    if not math.isfinite(value):
        return _Unreadable(f"{safe(token)} is not a finite number")
    written = pydantic_core.to_json(value).decode()
    if written != token:
        return _Unreadable(f"number {safe(token)} is not spelled as the writer spells it ({written})")
    return value


def _find(value: Any) -> tuple[str, _Unreadable] | None:
    """The path of the first :class:`_Unreadable` in ``value`` (iterative: nesting depth is not bounded)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Unreadable):
            return path, item
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return plain(out) if out else "the event"


def parse_event(raw: str | bytes) -> AuditEvent:
    """One stored event, read strictly (see the module documentation); :class:`MalformedEvent` if not."""
    try:
        event: AuditEvent | None = AuditEvent.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        event, invalid = None, exc
    if event is not None:
        written = event.model_dump_json()
        if written == raw or (isinstance(raw, bytes) and written.encode() == raw):
            return event  # exactly what the sink writes: one value per key, no NaN, the writer's numbers
    _check_json(raw)
    if event is not None:
        return event
    errors = invalid.errors(include_url=False, include_input=False)
    first = errors[0]
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    raise MalformedEvent(f"field {_field(tuple(first['loc']))}: {plain(first['msg'], 200)}{more}") from None


def _check_json(raw: str | bytes) -> None:
    """Raise :class:`MalformedEvent` for a duplicate key, a non-standard number or anything that is not
    one JSON object (the slow path, for text not byte-identical to what the sink writes)."""
    unreadable = False

    def number(token: str) -> float | _Unreadable:
        nonlocal unreadable
        value = _float(token)
        unreadable = unreadable or isinstance(value, _Unreadable)
        return value

    def constant(token: str) -> _Unreadable:
        nonlocal unreadable
        unreadable = True
        return _constant(token)

    try:
        obj = json.loads(raw, object_pairs_hook=_pairs, parse_constant=constant, parse_float=number)
    except MalformedEvent:
        raise
    except json.JSONDecodeError as exc:
        raise MalformedEvent(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except UnicodeDecodeError:
        raise MalformedEvent("not valid UTF-8") from None
    except RecursionError:
        raise MalformedEvent("nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise MalformedEvent(f"not readable JSON ({plain(str(exc), 100)})") from None
    if unreadable:
        found = _find(obj)
        if found is not None:
            path, bad = found
            raise MalformedEvent(f"field {plain(path) or 'the event'}: {bad.why}")
    if not isinstance(obj, dict):
        raise MalformedEvent(f"not a JSON object (a {type(obj).__name__})")
