"""The daemon's wire format: a 4-byte big-endian length, then that many bytes of UTF-8 JSON (an object).

Standard library only, and only its C parts on the client's path: ``json`` imports ``re`` (and with it
``enum``), which alone costs a hook call more than its whole budget for imports, so JSON is written with
``_json.encode_basestring_ascii`` and read with ``_json``'s scanner (the modules ``json`` itself uses),
with ``json`` as the fallback where ``_json`` is missing. Both sides bound what they read: a length over
the limit, a short read, invalid JSON or a non-object is a :class:`ProtocolError`, and every read runs
against a deadline (a peer that dribbles bytes cannot hold a thread longer than the request timeout).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from socket import socket
    from typing import Any

_json: Any
try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None

__all__ = [
    "MAX_ANSWER",
    "MAX_DEPTH",
    "MAX_REQUEST",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "dumps",
    "loads",
    "recv_message",
    "send_message",
]

PROTOCOL_VERSION = 1
MAX_REQUEST = 16 * 1024 * 1024
"""A request carries the hook's stdin (at most 10 MiB, base64-encoded) and the client's identity."""
MAX_ANSWER = 4 * 1024 * 1024
"""An answer carries the host's stdout and stderr text."""
MAX_DEPTH = 64
"""Nesting depth of a message this side writes (what it reads is bounded by its size)."""
_HEADER_SIZE = 4


class ProtocolError(Exception):
    """A message that is not a bounded, complete JSON object."""


# -- JSON, from the C accelerator ------------------------------------------------------------------------


def dumps(value: Any) -> str:
    """Compact JSON of ``value`` (dicts with string keys, lists, tuples, strings, ints, finite floats,
    booleans, ``None``); anything else raises :class:`ProtocolError`."""
    if _json is None:  # pragma: no cover
        import json

        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ProtocolError(str(exc)) from None
    out: list[str] = []
    _encode(value, out, 0)
    return "".join(out)


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ProtocolError(f"nested deeper than {MAX_DEPTH}")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_json.encode_basestring_ascii(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ProtocolError("a float that is not finite")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise ProtocolError(f"a key of type {type(key).__name__}")
            if i:
                out.append(",")
            out.append(_json.encode_basestring_ascii(key))
            out.append(":")
            _encode(item, out, depth + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise ProtocolError(f"a value of type {type(value).__name__}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Context:
    """What ``_json.make_scanner`` reads from a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constant)
    memo: dict[str, str] = {}


_scan = _json.make_scanner(_Context()) if _json is not None else None
_WHITESPACE = " \t\n\r"


def loads(text: str) -> Any:
    """The JSON value of ``text``; :class:`ProtocolError` for anything that is not exactly one value."""
    if _scan is None:  # pragma: no cover
        import json

        try:
            return json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from None
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration:
        raise ProtocolError(f"not JSON (at offset {start})") from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if text[end:].strip(_WHITESPACE):
        raise ProtocolError(f"not JSON: extra data at offset {end}")
    return value


# -- frames ----------------------------------------------------------------------------------------------


def send_message(sock: socket, message: dict[str, Any], *, limit: int, deadline: float) -> None:
    """Write ``message`` as one frame, before ``deadline`` (a :func:`time.monotonic` value)."""
    data = dumps(message).encode("ascii")
    if len(data) > limit:
        raise ProtocolError(f"message of {len(data)} bytes exceeds the limit of {limit}")
    _settimeout(sock, deadline)
    sock.sendall(len(data).to_bytes(_HEADER_SIZE, "big") + data)


def recv_message(sock: socket, *, limit: int, deadline: float) -> dict[str, Any]:
    """Read one frame before ``deadline``; anything but a JSON object within ``limit`` bytes raises."""
    size = int.from_bytes(_recv_exact(sock, _HEADER_SIZE, deadline), "big")
    if size > limit:
        raise ProtocolError(f"message of {size} bytes exceeds the limit of {limit}")
    body = _recv_exact(sock, size, deadline)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("not UTF-8") from None
    message = loads(text)
    if not isinstance(message, dict):
        raise ProtocolError(f"expected a JSON object, got {type(message).__name__}")
    return message


def _settimeout(sock: socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the request's deadline has passed")
    sock.settimeout(remaining)


def _recv_exact(sock: socket, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        _settimeout(sock, deadline)
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ProtocolError(f"connection closed after {size - left} of {size} bytes")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
