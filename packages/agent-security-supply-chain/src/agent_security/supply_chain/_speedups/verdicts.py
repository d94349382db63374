""":class:`Verdicts`: the governor's verdicts on command lines, reused while what they depended on holds;
part of the supply-chain speed code (:mod:`agent_security.supply_chain._speedups`).

A verdict is a function of the line, the governor's configuration (a :class:`Verdicts` belongs to one
configuration: the governor makes a new one when its rules change), ``$HOME`` and what the filesystem
answers when the line's rooted paths are resolved through their symlinks. Every such resolution made while
a verdict is reached goes through :func:`resolve_path`, which notes its question and answer; a remembered
verdict is handed back only after each question has been asked again and got the same answer, so a symlink
made or moved since is seen as on the first check. Lines are remembered under a keyed digest (no command
text is kept), at most :data:`MAX_LINES` of them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Generic, TypeVar

from agent_security.core.paths import PathError, ResolvedPath
from agent_security.core.paths import resolve_path as _resolve_path

__all__ = ["MAX_LINES", "Verdicts", "resolve_path"]

MAX_LINES = 1024
_KEY = secrets.token_bytes(16)

V = TypeVar("V")

_Question = tuple[str, "str | None", "str | None"]
_Answer = "ResolvedPath | str"
_NOTES: ContextVar[list[tuple[_Question, ResolvedPath | str]] | None] = ContextVar(
    "agent_security_supply_chain_resolutions", default=None
)


def _ask(question: _Question) -> ResolvedPath | str:
    raw, cwd, home = question
    try:
        return _resolve_path(raw, cwd=cwd, home=home, follow_symlinks=True)
    except PathError as exc:
        return f"error: {exc}"


def resolve_path(
    raw: str, *, cwd: str | None = None, home: str | None = None, follow_symlinks: bool = True
) -> ResolvedPath:
    """:func:`agent_security.core.paths.resolve_path`, noted for the verdict being reached (when it
    follows symlinks: only then does the answer depend on more than the text)."""
    if not follow_symlinks:
        return _resolve_path(raw, cwd=cwd, home=home, follow_symlinks=False)
    question = (raw, cwd, home)
    answer = _ask(question)
    notes = _NOTES.get()
    if notes is not None:
        notes.append((question, answer))
    if isinstance(answer, str):
        raise PathError(answer.removeprefix("error: "))
    return answer


class Verdicts(Generic[V]):
    """Verdicts of one governor configuration. Thread-safe (a dict's reads and writes are atomic; two
    threads reaching the same verdict both store it)."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[V, tuple[tuple[_Question, ResolvedPath | str], ...]]] = {}

    def verdict(self, line: str, reach: Callable[[], V]) -> V:
        """The verdict on ``line``: remembered when still valid, else ``reach()`` (and remembered)."""
        home = os.environ.get("HOME")
        key = hashlib.blake2b(f"{home}\x00{line}".encode("utf-8", "surrogatepass"), key=_KEY, digest_size=16).digest()
        known = self._known.get(key)
        if known is not None and all(_ask(q) == a for q, a in known[1]):
            return known[0]
        notes: list[tuple[_Question, ResolvedPath | str]] = []
        token = _NOTES.set(notes)
        try:
            result = reach()
        finally:
            _NOTES.reset(token)
        if len(self._known) >= MAX_LINES:
            self._known.clear()
        self._known[key] = (result, tuple(notes))
        return result
