"""What the file sinks share: private file creation, the line size limit, the cross-process file lock,
and the record of events a sink already wrote as the trail's shared head."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Self

try:
    import fcntl

    _flock: Callable[[int, int], None] | None = fcntl.flock
    _EX_NB, _UN = fcntl.LOCK_EX | fcntl.LOCK_NB, fcntl.LOCK_UN
except ImportError:  # pragma: no cover - not POSIX: a file sink is then shared by threads only
    _flock, _EX_NB, _UN = None, 0, 0

__all__ = [
    "LOCK_TIMEOUT_S",
    "MAX_LINE_BYTES",
    "PRIVATE_MODE",
    "Closing",
    "WrittenAsHead",
    "create_private",
    "lock_file",
    "unlock_file",
]

MAX_LINE_BYTES = 4 * 1024 * 1024
"""Largest event (serialised) a file sink writes or a reader accepts."""
PRIVATE_MODE = 0o600
"""Mode of every audit file a sink creates (whatever the umask): the trail is for its owner only."""
LOCK_TIMEOUT_S = 10.0
"""How long a writer waits for another process's lock on a shared trail before the write fails (and the
pipeline denies with ``AUDIT_FAILURE``)."""
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Closing:
    """Context-manager support: ``with JsonlAuditSink(path) as sink: ...`` closes the sink."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (an existing file keeps its mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_MODE)
    except FileExistsError:
        return
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE_MODE)  # the umask may have taken bits away: set exactly 0600
    finally:
        os.close(fd)


def lock_file(fd: int, what: str, timeout_s: float = LOCK_TIMEOUT_S) -> None:
    """An exclusive ``flock`` on ``fd``, waiting at most ``timeout_s`` for other processes to release it
    (:class:`TimeoutError` then). Every open file description is its own lock owner: two sinks on one file
    exclude each other in one process too."""
    if _flock is None:  # pragma: no cover
        return
    try:
        _flock(fd, _EX_NB)
        return
    except BlockingIOError:
        pass
    deadline = time.monotonic() + timeout_s
    delay = 0.0002
    while True:
        time.sleep(delay)  # another process holds the lock for one append: a short wait, growing
        try:
            _flock(fd, _EX_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what}: another writer held the lock for more than {timeout_s:g} s") from None
            delay = min(delay * 2, 0.005)


def unlock_file(fd: int) -> None:
    if _flock is not None:
        _flock(fd, _UN)


class WrittenAsHead:
    """Hashes of events a sink wrote as the trail's shared head, so that it skips them when they are
    delivered to it again through ``agent_security_audit_event``. Bounded: an event that is never
    delivered (its delivery was refused further up) is forgotten after ``limit`` others."""

    def __init__(self, limit: int = 4096) -> None:
        self._hashes: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, digest: str) -> None:
        with self._lock:
            self._hashes[digest] = None
            if len(self._hashes) > self._limit:
                self._hashes.popitem(last=False)

    def take(self, digest: str | None) -> bool:
        """Whether ``digest`` was written as head (forgetting it)."""
        if digest is None:
            return False
        with self._lock:
            return self._hashes.pop(digest, 0) is None
