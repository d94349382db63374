""":class:`Verdicts`: the governor's verdicts on command lines, reused while what they depended on holds;
part of the supply-chain speed code (:mod:`agent_security.supply_chain._speedups`).

A verdict is a function of the line, the governor's configuration (a :class:`Verdicts` belongs to one
configuration: the governor makes a new one when its rules change), ``$HOME`` and what the filesystem
answers when the line's rooted paths are resolved through their symlinks. Every such resolution made while
a verdict is reached goes through :func:`resolve_path`, which notes its question and answer; a remembered
verdict is handed back only after each question has been asked again and got the same answer, so a symlink
made or moved since is seen as on the first check. Lines are remembered under a keyed digest (no command
text is kept), at most :data:`MAX_LINES` of them.

The usual answer, a path that went through no symlink (the answer is the path as its text alone gives
it), is asked again with one ``lstat`` per component: ``os.path.realpath`` gives that same path back exactly
when none of its leading components that exist is a symlink (a component that does not exist, or is no
directory, has nothing below it; the walk stops there). Any symlink on the way, or an answer that went
through one, is asked again in full.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
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
_Note = tuple[_Question, "ResolvedPath | str", "tuple[str, ...] | None"]
"""A question, its answer and, for an answer that went through no symlink, the components to ``lstat``
(``/a``, ``/a/b``, ...) to know it still holds."""
_NOTES: ContextVar[list[_Note] | None] = ContextVar("agent_security_supply_chain_resolutions", default=None)


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
        notes.append((question, answer, _components_if_direct(question, answer)))
    if isinstance(answer, str):
        raise PathError(answer.removeprefix("error: "))
    return answer


def _components_if_direct(question: _Question, answer: ResolvedPath | str) -> tuple[str, ...] | None:
    """The leading components of ``answer`` when it is the path the question's text alone gives (no
    symlink on the way, no file descriptor), else ``None``. The text's path is a function of the question
    (``$HOME``, read for a ``~`` when ``home`` is not given, is part of the verdict's key)."""
    if isinstance(answer, str) or answer.via_fd:
        return None
    raw, cwd, home = question
    try:
        text = _resolve_path(raw, cwd=cwd, home=home, follow_symlinks=False)
    except PathError:
        return None
    if text.via_fd or text.path != answer.path:
        return None
    names = answer.path.split("/")[1:] if answer.path != "/" else []
    return tuple("/" + "/".join(names[: i + 1]) for i in range(len(names)))


def _no_symlink_among(components: tuple[str, ...]) -> bool:
    """Whether none of ``components`` (leading components of one path, shortest first) is a symlink, as
    ``os.path.realpath`` sees them: one that cannot be read is no symlink; one that does not exist or is no
    directory has nothing below it."""
    for path in components:
        try:
            mode = os.lstat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return True
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            return False
    return True


def _holds(note: _Note) -> bool:
    """Whether the filesystem still gives the noted answer to the noted question."""
    question, answer, components = note
    if components is not None and _no_symlink_among(components):
        return True
    return _ask(question) == answer


class Verdicts(Generic[V]):
    """Verdicts of one governor configuration. Thread-safe (a dict's reads and writes are atomic; two
    threads reaching the same verdict both store it)."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[V, tuple[_Note, ...]]] = {}

    def verdict(self, line: str, reach: Callable[[], V]) -> V:
        """The verdict on ``line``: remembered when still valid, else ``reach()`` (and remembered)."""
        home = os.environ.get("HOME")
        key = hashlib.blake2b(f"{home}\x00{line}".encode("utf-8", "surrogatepass"), key=_KEY, digest_size=16).digest()
        known = self._known.get(key)
        if known is not None and all(_holds(note) for note in known[1]):
            return known[0]
        notes: list[_Note] = []
        token = _NOTES.set(notes)
        try:
            result = reach()
        finally:
            _NOTES.reset(token)
        if len(self._known) >= MAX_LINES:
            self._known.clear()
        self._known[key] = (result, tuple(notes))
        return result
