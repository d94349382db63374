"""RFC 8785 (JSON Canonicalization Scheme) encoding, fast.

:func:`dumps` returns exactly the bytes of ``rfc8785.dumps``. For the common case — no floats, ASCII
object keys, integers within the IEEE-754 safe range — the value is copied with its object keys sorted
and written by pydantic-core's serializer (compact, UTF-8, the same string escaping as RFC 8785:
``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t`` and lowercase ``\\u00xx`` for other control characters), at a
fraction of the reference implementation's cost. Anything else (a float, a non-ASCII key whose UTF-16
ordering could differ, an integer outside ±2**53, a lone surrogate) goes to the reference implementation,
which also raises for values RFC 8785 cannot represent. A property test holds the two byte-for-byte equal.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from typing import Any

import pydantic_core
import rfc8785

__all__ = ["NotFast", "dumps", "encode_string", "prepare"]

_SAFE_INT = 2**53 - 1


class NotFast(Exception):
    """The value needs the reference implementation."""


def prepare(value: Any) -> Any:
    """A copy of ``value`` with every object's keys in RFC 8785 order, or :class:`NotFast`."""
    if isinstance(value, str) or value is None or value is True or value is False:
        return value
    if isinstance(value, dict):
        out = {}
        for key in sorted(value):
            if not isinstance(key, str) or not key.isascii():
                raise NotFast
            out[key] = prepare(value[key])
        return out
    if isinstance(value, list | tuple):
        return [prepare(v) for v in value]
    if isinstance(value, int) and -_SAFE_INT <= value <= _SAFE_INT:
        return value
    raise NotFast


encode_string: Callable[[str], str] = json.encoder.encode_basestring  # the C encoder when present
"""A ``str`` as an RFC 8785 JSON string (quotes included). The standard library's encoder with
``ensure_ascii=False`` escapes exactly what RFC 8785 escapes: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, lowercase
``\\u00xx`` for the other control characters, and nothing else (U+007F, U+2028 and every other character
are written as themselves). A lone surrogate is copied as it is: encoding the text to UTF-8 then fails,
which is the caller's cue to take the reference path (RFC 8785 cannot represent one). Raises
:class:`TypeError` for anything but a ``str``."""


def write(prepared: Any) -> bytes:
    """Serialise a value returned by :func:`prepare` (keys already in order)."""
    return pydantic_core.to_json(prepared)


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON-compatible value."""
    try:
        return write(prepare(value))
    except (NotFast, RecursionError, pydantic_core.PydanticSerializationError):
        return rfc8785.dumps(value)
