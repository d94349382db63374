"""Regular expressions compiled on first use instead of at import.

A hook runs one fresh process per tool call, and the scanner's detectors hold dozens of module-level
patterns, most of which a call that meets no secret never runs: compiling them all at import cost every
such process milliseconds. :func:`compile_on_use` returns a stand-in that compiles its pattern the first
time any of its attributes is read, then keeps the compiled pattern's methods as its own attributes, so
later calls cost what a call on the compiled pattern costs (one instance attribute lookup).

The stand-in answers every method and attribute of :class:`re.Pattern` used on it (``search``, ``match``,
``finditer``, ``sub``, ``pattern``...). It is not a :class:`re.Pattern` instance: it must not be passed
to ``re.sub(pattern, ...)`` and friends, nor compared by identity with ``Match.re``; use it through its
methods. :func:`compile_now` compiles one (the tests compile every one, so that a malformed pattern fails
the suite, not a first call).
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast

__all__ = ["compile_now", "compile_on_use", "deferred_patterns", "is_compiled"]

_FORWARDED = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _OnUse:
    """The stand-in: ``re.compile(source, flags)`` the first time one of its attributes is read."""

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source = source
        self._flags = flags

    def __getattr__(self, name: str) -> Any:  # only for an attribute not set yet: the first use
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        for attr in _FORWARDED:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"compile_on_use({self._source!r}, {self._flags!r})"


def compile_on_use(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """``re.compile(pattern, flags)``, compiled when first used (see the module's docstring)."""
    return cast("re.Pattern[AnyStr]", _OnUse(pattern, flags))


def compile_now(pattern: object) -> None:
    """Compile ``pattern`` now if it is a stand-in of :func:`compile_on_use` (raises :class:`re.error`
    for a malformed one); anything else is left alone."""
    if isinstance(pattern, _OnUse):
        pattern.search  # noqa: B018 - reading an attribute compiles it


def deferred_patterns(namespace: dict[str, Any]) -> list[str]:
    """The names in ``namespace`` (a module's ``vars()``) bound to a stand-in, or to a container of
    stand-ins (a dict's values, a tuple or list), compiled or not."""
    found = []
    for name, value in namespace.items():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else [value]
        if any(isinstance(item, _OnUse) for item in items):
            found.append(name)
    return found


def is_compiled(pattern: object) -> bool:
    """Whether a stand-in has been compiled (always true for anything else)."""
    return not isinstance(pattern, _OnUse) or "search" in vars(pattern)
