"""Reading small files that come from outside (policies, config, state, keys, lock files), bounded.

A size check by ``stat()`` alone is not a bound: a FIFO, ``/dev/zero`` or a symlink to either reports 0
bytes, and opening a FIFO for reading waits for a writer. :func:`read_bounded` opens without waiting,
refuses anything but a regular file, and never reads more than ``max_bytes + 1`` bytes, whatever the
file claims (or becomes while it is read).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["MAX_KEY_FILE_BYTES", "NotRegularFileError", "UnreadableFile", "open_regular", "read_bounded"]

MAX_KEY_FILE_BYTES = 64 * 1024
"""Far more than any PEM key file needs."""


class UnreadableFile(ValueError):
    """The path is not a regular file, or holds more than the allowed bytes (``too_large``)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class NotRegularFileError(UnreadableFile, OSError):
    """The path names something other than a regular file (a FIFO, a device, a directory, a socket)."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], *, what: str = "file") -> BinaryIO:
    """``path`` opened for binary reading (for files read as a stream, e.g. an audit trail);
    :class:`NotRegularFileError` unless it is a regular file. Opening never waits (``O_NONBLOCK``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(f"{what} {os.fsdecode(path)} is not a regular file ({_kind(mode)})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: str | os.PathLike[str], max_bytes: int, *, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises :class:`NotRegularFileError` (an :class:`UnreadableFile`) for anything that is not a regular
    file, :class:`UnreadableFile` (``too_large``) for a file holding more than ``max_bytes``;
    ``FileNotFoundError`` and other ``OSError`` propagate (callers decide whether a missing file is
    legitimate). ``what`` names the file in messages.
    """
    with open_regular(path, what=what) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise UnreadableFile(
                f"{what} {Path(os.fspath(path))} is {size} bytes; the limit is {max_bytes}", too_large=True
            )
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile(f"{what} {Path(os.fspath(path))} holds more than {max_bytes} bytes", too_large=True)
    return data
