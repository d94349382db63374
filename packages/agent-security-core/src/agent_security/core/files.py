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

__all__ = ["MAX_KEY_FILE_BYTES", "UnreadableFile", "read_bounded"]

MAX_KEY_FILE_BYTES = 64 * 1024
"""Far more than any PEM key file needs."""


class UnreadableFile(ValueError):
    """The path is not a regular file, or holds more than the allowed bytes (``too_large``)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def read_bounded(path: str | os.PathLike[str], max_bytes: int, *, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises :class:`UnreadableFile` for anything that is not a regular file (a directory, FIFO, device,
    socket) or that holds more than ``max_bytes``; ``FileNotFoundError`` and other ``OSError`` propagate
    (callers decide whether a missing file is legitimate). ``what`` names the file in messages.
    """
    where = os.fspath(path)
    # O_NONBLOCK: opening a FIFO must not hang waiting for a writer (it is refused below).
    fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{what} {Path(where)} is not a regular file")
        if info.st_size > max_bytes:
            raise UnreadableFile(f"{what} {Path(where)} is {info.st_size} bytes; the limit is {max_bytes}",
                                 too_large=True)
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UnreadableFile(f"{what} {Path(where)} holds more than {max_bytes} bytes", too_large=True)
    return data
