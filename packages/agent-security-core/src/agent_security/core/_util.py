"""Small internal helpers: bounded copying of hostile JSON-like input and request hashing."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from agent_security.core.models import ActionRequest

__all__ = [
    "MAX_ARGS_DEPTH",
    "MAX_ARGS_ITEMS",
    "MAX_INT_BITS",
    "MAX_STRING",
    "InputTooLarge",
    "InvalidArguments",
    "freeze_json",
    "request_hash",
]

MAX_ARGS_DEPTH = 64
MAX_ARGS_ITEMS = 100_000
MAX_STRING = 4 * 1024 * 1024
MAX_TOTAL_CHARS = 16 * 1024 * 1024
MAX_INT_BITS = 4096 * 3  # about 3700 decimal digits: below Python's int-to-str limit, so hashing cannot fail


class InvalidArguments(ValueError):
    """Tool arguments that cannot be represented faithfully as the JSON the policy sees."""


class InputTooLarge(InvalidArguments):
    """Tool arguments beyond the documented bounds (depth, item count, string size)."""


def freeze_json(value: Any) -> Any:
    """Deep-copy ``value`` into plain JSON-compatible data, enforcing bounds without recursion.

    Mappings become dicts with string keys, sequences (list/tuple/set) become lists, ``bytes`` are
    decoded as UTF-8 with replacement, non-finite floats and any other object become their ``str()``.
    Raises :class:`InputTooLarge` past :data:`MAX_ARGS_DEPTH` levels, :data:`MAX_ARGS_ITEMS` containers
    and scalars, :data:`MAX_TOTAL_CHARS` characters of strings in all (keys included, whatever their
    type) or an integer wider than :data:`MAX_INT_BITS`; :class:`InvalidArguments` when two keys of one
    mapping become the same string (``{1: a, "1": b}``): merging them would show the policy other
    arguments than the tool receives. Sets are ordered by their frozen JSON, after the bounds applied.
    """
    items = 0
    chars = 0

    def scalar(v: Any) -> Any:
        nonlocal chars
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, int):
            if v.bit_length() > MAX_INT_BITS:
                raise InputTooLarge(f"an integer argument is wider than {MAX_INT_BITS} bits")
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
    unordered: list[list[Any]] = []  # frozen sets, sorted once everything inside them is frozen
    while stack:
        src, dst, depth = stack.pop()
        if depth > MAX_ARGS_DEPTH:
            raise InputTooLarge(f"arguments are nested deeper than {MAX_ARGS_DEPTH} levels")
        if isinstance(src, set | frozenset):
            if items + len(src) > MAX_ARGS_ITEMS:
                raise InputTooLarge(f"arguments hold more than {MAX_ARGS_ITEMS} values")
            unordered.append(dst)
        pairs = src.items() if isinstance(src, Mapping) else enumerate(src)
        for key, child in pairs:
            items += 1
            if items > MAX_ARGS_ITEMS:
                raise InputTooLarge(f"arguments hold more than {MAX_ARGS_ITEMS} values")
            sub = container(child)
            out = scalar(child) if sub is None else sub
            if isinstance(dst, dict):
                name = scalar(key if isinstance(key, str) else str(key))
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


def canonical_json(value: Any) -> str:
    """Deterministic compact JSON (sorted keys) of already-frozen data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


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
