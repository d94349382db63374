"""Deep-frozen JSON values, so that a loaded bundle cannot be changed through its ``dict`` fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

__all__ = ["FrozenDict", "deep_freeze", "deep_thaw"]


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses every mutation (it stays a ``dict`` so pydantic and ``json`` serialise it)."""

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("policy bundle data is read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def _build_frozen(pairs: Iterable[tuple[str, Any]]) -> FrozenDict:
    out = FrozenDict()
    for key, value in pairs:
        dict.__setitem__(out, key, value)
    return out


def deep_freeze(value: Any) -> Any:
    """Recursively turn dicts into :class:`FrozenDict` and lists into tuples (JSON data only)."""
    if isinstance(value, Mapping):
        return _build_frozen((str(k), deep_freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    return value


def deep_thaw(value: Any) -> Any:
    """A plain, mutable deep copy of frozen (or any JSON) data: dicts and lists."""
    if isinstance(value, Mapping):
        return {k: deep_thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [deep_thaw(v) for v in value]
    return value
