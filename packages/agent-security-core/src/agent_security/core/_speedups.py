"""Speed code, kept in one place: nothing else in the project trades clarity for time. Its benchmark is
``benchmarks/bench_pipeline.py`` (the whole check, where these pieces matter), and a test holds each
function equal to its reference (``tests/core/test_speedups.py``).

* :func:`remember` is the bounded memo every cache of the core uses.
* :func:`canonical_json_bytes` writes the canonical JSON of a request body (the bytes an approval is
  bound to, see :func:`agent_security.core.resolution.request_hash`) with pydantic-core's serializer
  when that gives the same bytes as the reference ``json.dumps(..., sort_keys=True)``: the usual body (flat
  arguments of plain values), about a third of the reference's time.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

__all__ = ["canonical_json_bytes", "remember"]


def remember(cache: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """``cache[key] = value`` in a memo bounded to ``limit`` entries: a full memo is emptied first (the
    memos serve values that come back on nearly every check, so the bound matters, not which entries
    survive it). One dict operation each: safe from any thread."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


_INT_BOUND = 2**63


def _plain_flat(args: Any) -> bool:
    """Whether pydantic-core writes ``args`` exactly as ``json.dumps(sort_keys=True)`` would once its keys
    are sorted: a dict of ASCII ``str`` keys and ``str``, ``bool``, ``None`` or 64-bit ``int`` values
    (floats, whose shortest forms differ between the two writers, and nested values are not)."""
    if type(args) is not dict:
        return False
    for key, value in args.items():
        if type(key) is not str or not key.isascii():
            return False
        kind = type(value)
        if not (kind is str or value is None or kind is bool or (kind is int and -_INT_BOUND < value < _INT_BOUND)):
            return False
    return True


def reference_json_bytes(body: dict[str, Any]) -> bytes:
    """The canonical JSON bytes by definition: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def canonical_json_bytes(body: dict[str, Any], nested: str) -> bytes:
    """:func:`reference_json_bytes` of ``body``, whose values are ``str`` or ``None`` except
    ``body[nested]`` (the tool arguments)."""
    inner = body[nested]
    if _plain_flat(inner) and all(
        (v is None or type(v) is str) and k.isascii() for k, v in body.items() if k != nested
    ):
        ordered = {k: ({n: inner[n] for n in sorted(inner)} if k == nested else body[k]) for k in sorted(body)}
        try:
            return pydantic_core.to_json(ordered)
        except pydantic_core.PydanticSerializationError:  # a lone surrogate: the reference decides
            pass
    return reference_json_bytes(body)
