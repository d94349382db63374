"""Opening files an operator names, which someone else may control: regular files only, bounded reads.

A FIFO, a device such as ``/dev/zero`` or a directory is refused before anything is read from it (the
file is opened non-blocking, so even opening a FIFO with no writer returns at once), and a read never
trusts ``st_size``: it asks for at most ``limit + 1`` bytes.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["NotRegularFileError", "open_regular", "read_regular"]


class NotRegularFileError(OSError):
    """The path names something other than a regular file (a FIFO, a device, a directory, a socket)."""


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for binary reading; :class:`NotRegularFileError` unless it is a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(f"{os.fsdecode(path)}: not a regular file ({_what(mode)})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """The whole of a regular file, or ``None`` when it holds more than ``limit`` bytes."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data
