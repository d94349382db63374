"""Paths as the kernel will read them: the one resolver every check that judges a path goes through.

A rule about ``/etc`` must hold for ``/tmp/../etc/passwd``, for ``/proc/self/root/etc/passwd``, for a
symlink that points there, and must not hold for ``/etcetera``. :func:`resolve_path` gives the path the
kernel would open (relative paths against ``cwd``, ``~`` against ``home``, ``..`` and ``.`` collapsed,
``/proc/self/root`` and ``/proc/self/cwd`` read through, symlinks followed where they exist on this
machine) and says when the target cannot be known from the text alone (a file descriptor path such as
``/dev/fd/3`` or ``/proc/self/fd/3``: whatever that descriptor is open on). :func:`is_within` compares by
whole components. Shell expansion (variables, globs, quoting) is the shell parser's job, done before this.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass

__all__ = ["PathError", "ResolvedPath", "is_within", "resolve_path"]

#: Longest path accepted, in characters (Linux's PATH_MAX is 4096 bytes).
MAX_PATH_CHARS = 4096

_FD_PATH = re.compile(r"^/(?:dev/fd|dev/std(?:in|out|err)|proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd)(?:/|$)")


class PathError(ValueError):
    """A path that cannot name a file: empty, too long, or holding a NUL byte."""


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """``raw`` as given; ``path`` absolute and normalised as the kernel would reach it; ``via_fd`` when the
    path names an open file descriptor, so its target is unknown from the text (judge it as sensitive)."""

    raw: str
    path: str
    via_fd: bool = False


def resolve_path(
    raw: str,
    *,
    cwd: str | None = None,
    home: str | None = None,
    follow_symlinks: bool = True,
) -> ResolvedPath:
    """Resolve ``raw`` as the kernel would. ``cwd`` defaults to ``/`` (never this process's own directory,
    which is not the agent's); ``home`` to ``$HOME``. ``follow_symlinks=False`` judges the text alone (for a
    path on another machine). Raises :class:`PathError` for a path that cannot name a file."""
    if not raw:
        raise PathError("empty path")
    if len(raw) > MAX_PATH_CHARS:
        raise PathError(f"path longer than {MAX_PATH_CHARS} characters")
    if "\x00" in raw:
        raise PathError("path holds a NUL byte")
    base = posixpath.normpath(cwd) if cwd and cwd.startswith("/") else "/"
    path = raw
    if path == "~" or path.startswith("~/"):
        user_home = home if home is not None else os.environ.get("HOME", "/root")
        path = user_home + path[1:]
    if not path.startswith("/"):
        path = posixpath.join(base, path)
    path = _walk(path, base)
    if _FD_PATH.match(path):
        return ResolvedPath(raw=raw, path=path, via_fd=True)
    if follow_symlinks:
        path = os.path.realpath(path)
        if _FD_PATH.match(path):
            return ResolvedPath(raw=raw, path=path, via_fd=True)
    return ResolvedPath(raw=raw, path=path)


def is_within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it, by whole components (``/tmpfoo`` is not within ``/tmp``).
    Both are compared as given: resolve them first."""
    root = root.rstrip("/") or "/"
    if root == "/":
        return path.startswith("/")
    return path == root or path.startswith(root + "/")


def _walk(path: str, cwd: str) -> str:
    """Collapse ``.`` and ``..`` component by component, as the kernel walks them, reading the magic links
    ``/proc/<self|pid>/root`` (to ``/``) and ``/proc/<self|pid>/cwd`` (to the agent's directory) where they
    occur, so that a ``..`` after one climbs from its target and not from ``/proc``."""
    stack: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if stack:
                stack.pop()
            continue
        stack.append(part)
        if _is_magic_link(stack):
            stack = [] if part == "root" else [c for c in cwd.split("/") if c]
    return "/" + "/".join(stack)


def _is_magic_link(stack: list[str]) -> bool:
    if stack[-1] not in ("root", "cwd") or stack[0] != "proc":
        return False
    if len(stack) == 3:
        return _is_process(stack[1])
    return len(stack) == 5 and _is_process(stack[1]) and stack[2] == "task" and stack[3].isdigit()


def _is_process(name: str) -> bool:
    return name in ("self", "thread-self") or name.isdigit()
