"""Where the daemon's socket lives, and the checks that keep it the user's own.

Standard library only. The directory is ``$XDG_RUNTIME_DIR/agent-security`` when ``XDG_RUNTIME_DIR`` is
an absolute directory owned by the user with mode 0700, else ``$TMPDIR/agent-security-<uid>`` (``/tmp``
when ``TMPDIR`` is unset). It must be a real directory (not a symlink), owned by the effective user, with
no permission bits for group or others: anything else is :class:`UnsafeDirectory`, and neither the server
nor the client uses it (the client then checks in-process). Inside, one daemon per config selection
(:func:`agent_security.adapters.daemon.freshness.selection_key`): ``<key>.sock``, ``<key>.lock`` (held
with ``flock`` by the serving daemon) and ``<key>.pid``.
"""

# os.path on purpose: the hook client must not import pathlib, which costs it milliseconds.
# ruff: noqa: PTH102, PTH117, PTH118
from __future__ import annotations

import os
import stat

__all__ = [
    "DaemonPaths",
    "UnsafeDirectory",
    "check_private_dir",
    "check_socket",
    "daemon_paths",
    "make_private_dir",
    "socket_dir",
]


class UnsafeDirectory(Exception):
    """The socket directory (or socket) is not the user's own: wrong type, owner or mode."""


def socket_dir() -> str:
    """The directory of the daemon's sockets for this user (not created, not checked)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        try:
            check_private_dir(runtime)
        except (UnsafeDirectory, OSError):
            pass
        else:
            return os.path.join(runtime, "agent-security")
    tmp = os.environ.get("TMPDIR", "")
    base = tmp if tmp and os.path.isabs(tmp) else "/tmp"  # noqa: S108 - checked: a 0700 directory of our own
    return os.path.join(base, f"agent-security-{os.geteuid()}")


def check_private_dir(path: str) -> None:
    """Raise :class:`UnsafeDirectory` unless ``path`` is a directory (not a symlink) owned by the effective
    user with no group or other permissions; ``OSError`` (e.g. ``FileNotFoundError``) when it cannot be read."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory(f"{path} is not a directory")
    if st.st_uid != os.geteuid():
        raise UnsafeDirectory(f"{path} is owned by uid {st.st_uid}, not by this user ({os.geteuid()})")
    if st.st_mode & 0o077:
        raise UnsafeDirectory(f"{path} has mode {stat.S_IMODE(st.st_mode):o}; it must be 700")


def check_socket(path: str) -> None:
    """Raise :class:`UnsafeDirectory` unless ``path`` is a unix socket owned by the effective user."""
    st = os.lstat(path)
    if not stat.S_ISSOCK(st.st_mode):
        raise UnsafeDirectory(f"{path} is not a socket")
    if st.st_uid != os.geteuid():
        raise UnsafeDirectory(f"{path} is owned by uid {st.st_uid}, not by this user ({os.geteuid()})")


def make_private_dir(path: str) -> None:
    """Create ``path`` (mode 0700) if missing, then check it as :func:`check_private_dir` does."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    check_private_dir(path)


class DaemonPaths:
    """The files of one daemon (a plain class: ``dataclasses`` costs a hook call milliseconds)."""

    __slots__ = ("directory", "lock", "log", "pid", "socket")

    def __init__(self, directory: str, socket: str, lock: str, pid: str, log: str) -> None:
        self.directory, self.socket, self.lock, self.pid, self.log = directory, socket, lock, pid, log

    def __repr__(self) -> str:
        return f"DaemonPaths(socket={self.socket!r})"


def daemon_paths(key: str, directory: str | None = None) -> DaemonPaths:
    """The files of the daemon that serves the config selection ``key``."""
    d = directory if directory is not None else socket_dir()
    base = os.path.join(d, key)
    return DaemonPaths(d, base + ".sock", base + ".lock", base + ".pid", base + ".log")
