"""Reading a request from stdin, bounded in size and in time. Standard library only: the hook's fast path
uses it before (and often instead of) the rest of the core.

A caller that never closes stdin must not make a command hang: the agent hosts treat a hook that times
out as "proceed" (Claude Code, Cursor without ``failClosed``), so a hang is an allow. :func:`read_stdin`
gives up first, with :class:`StdinError`.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["StdinError", "read_stdin"]


class StdinError(Exception):
    """stdin is missing or a terminal, was not closed in time, or holds more than the limit."""


def read_stdin(stream: BinaryIO | None, *, timeout: float, limit: int, hint: str) -> bytes:
    """At most ``limit`` bytes of ``stream`` (stdin), which must reach end-of-file within ``timeout``
    seconds. ``hint`` says what belongs on stdin (in the errors for a missing stdin or a terminal)."""
    if stream is None:
        raise StdinError(f"no stdin: {hint}")
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1  # an in-memory stream (tests, embedding): it cannot block
    if fd < 0:
        raw = stream.read(limit + 1)
    elif os.isatty(fd):
        raise StdinError(f"stdin is a terminal: {hint}")
    else:
        raw = _read_fd(fd, timeout, limit)
    if len(raw) > limit:
        raise StdinError(f"input on stdin exceeds {limit} bytes")
    return raw


def _late(timeout: float) -> StdinError:
    return StdinError(
        f"stdin was not closed within {timeout:g} s (--stdin-timeout); refusing to wait for the rest of the request"
    )


def _read_fd(fd: int, timeout: float, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``fd`` until end-of-file, within ``timeout`` seconds."""
    import time

    if sys.platform == "win32":  # pragma: no cover - select() does not take pipes on Windows
        import threading

        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(_read_all(fd, limit)), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive() or not box:
            raise _late(timeout)
        return box[0]
    import select

    chunks: list[bytes] = []
    total = 0
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(remaining, 0.0))[0] if remaining > 0 else []
        # past the deadline, one last non-waiting look: data (or EOF) that is already there is not late
        if not ready and not select.select([fd], [], [], 0)[0]:
            raise _late(timeout)
        chunk = os.read(fd, 1024 * 1024)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return b"".join(chunks)


def _read_all(fd: int, limit: int) -> bytes:  # pragma: no cover - Windows only
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, 1024 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
