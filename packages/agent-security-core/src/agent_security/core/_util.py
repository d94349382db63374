"""Small internal helpers: bounded copying of hostile JSON-like input and request hashing."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from agent_security.core.models import ActionRequest

__all__ = ["MAX_ARGS_DEPTH", "MAX_ARGS_ITEMS", "MAX_STRING", "InputTooLarge", "freeze_json", "request_hash"]

MAX_ARGS_DEPTH = 64
MAX_ARGS_ITEMS = 100_000
MAX_STRING = 4 * 1024 * 1024
MAX_TOTAL_CHARS = 16 * 1024 * 1024


class InputTooLarge(ValueError):
    """Tool arguments beyond the documented bounds (depth, item count, string size)."""


def freeze_json(value: Any) -> Any:
    """Deep-copy ``value`` into plain JSON-compatible data, enforcing bounds without recursion.

    Mappings become dicts with string keys, sequences (list/tuple/set) become lists, ``bytes`` are
    decoded as UTF-8 with replacement, non-finite floats and any other object become their ``str()``.
    Raises :class:`InputTooLarge` past :data:`MAX_ARGS_DEPTH` levels, :data:`MAX_ARGS_ITEMS` containers
    and scalars, or :data:`MAX_TOTAL_CHARS` characters of strings in all.
    """
    if type(value) is dict:
        flat = _freeze_flat(value)
        if flat is not None:
            return flat
    return _freeze_walk(value)


def _freeze_walk(value: Any) -> Any:
    """The general case of :func:`freeze_json`."""
    items = 0
    chars = 0

    def scalar(v: Any) -> Any:
        nonlocal chars
        if v is None or isinstance(v, bool | int):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else str(v)
        if isinstance(v, bytes | bytearray):
            v = bytes(v).decode("utf-8", "replace")
        elif not isinstance(v, str):
            v = str(v)
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
        return None

    root = container(value)
    if root is None:
        return scalar(value)
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        src, dst, depth = stack.pop()
        if depth > MAX_ARGS_DEPTH:
            raise InputTooLarge(f"arguments are nested deeper than {MAX_ARGS_DEPTH} levels")
        pairs = src.items() if isinstance(src, Mapping) else enumerate(
            sorted(src, key=repr) if isinstance(src, set | frozenset) else src)
        for key, child in pairs:
            items += 1
            if items > MAX_ARGS_ITEMS:
                raise InputTooLarge(f"arguments hold more than {MAX_ARGS_ITEMS} values")
            sub = container(child)
            out = scalar(child) if sub is None else sub
            if isinstance(dst, dict):
                dst[scalar(key) if isinstance(key, str) else str(key)] = out
            else:
                dst.append(out)
            if sub is not None:
                stack.append((child, sub, depth + 1))
    return root


def _freeze_flat(value: dict[Any, Any]) -> dict[str, Any] | None:
    """:func:`freeze_json` of the most common arguments, a flat dict of plain scalars (exact ``str`` keys;
    ``str``, ``int``, ``bool``, ``None`` or finite ``float`` values) within every bound; ``None`` for
    anything else (the general walk then copies it, or raises the precise error)."""
    if len(value) > MAX_ARGS_ITEMS:
        return None
    out: dict[str, Any] = {}
    chars = 0
    for key, child in value.items():
        if type(key) is not str or len(key) > MAX_STRING:
            return None
        chars += len(key)
        kind = type(child)
        if kind is str:
            if len(child) > MAX_STRING:
                return None
            chars += len(child)
        elif not (child is None or kind is int or kind is bool or (kind is float and math.isfinite(child))):
            return None
        out[key] = child
    return out if chars <= MAX_TOTAL_CHARS else None


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)


def canonical_json(value: Any) -> str:
    """Deterministic compact JSON (sorted keys) of already-frozen data: exactly ``json.dumps(value,
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``.

    ``json.dumps`` with non-default options builds a new encoder, and ``JSONEncoder.encode`` a new C
    encoder, on every call; this builds only the C encoder (fresh ``markers``, so circular references are
    still detected and concurrent calls share nothing)."""
    if _c_make_encoder is None or type(value) is not dict:
        return _ENCODER.encode(value)
    encode = _c_make_encoder({}, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False,
                             False)
    return "".join(encode(value, 0))


def request_hash(request: ActionRequest) -> str:
    """SHA-256 over what an approval covers: who, where, which tool, with which arguments and input.

    Two requests with the same hash are the same call; an approval bound to one hash cannot be used for
    a call whose arguments, tool, agent, environment, session or user input differ.
    """
    body = {
        "agent_id": request.agent.agent_id,
        "environment": request.agent.environment,
        "action_type": request.action.type,
        "tool_name": request.action.tool_name,
        "tool_args": request.action.tool_args,
        "session_id": request.context.session_id,
        "user_input": request.context.user_input,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
