"""The JSON Lines audit sink: one JSON object per line, appended; any number of processes may share a file.

**Durability.** The line is written with one ``write`` call, flushed, and ``fsync``-ed before the hook
returns (default ``fsync=True``: at most the in-flight event is lost, and a torn last line is detected).
With ``fsync=False`` a process crash loses nothing already written, a power loss may lose recent lines.
A write that fails, is short or whose fsync fails is undone (the file is cut back to its length before
it); if it cannot be undone, the sink refuses every later write.

**Several writers.** Every write holds an exclusive ``flock`` on the file, so lines from several
processes never interleave. As the trail's shared head (:meth:`JsonlAuditSink.lock_head`, used by
``AuditTrail.open``), the lock is held while the trail reads the last event of the file, chains the next
one on it and writes it: any number of processes appending to one file make one chain.

A file that does not end with a newline (a torn write, after a crash) gets one, under the lock, before the
next line: the torn line stays visible to the verifier as a malformed line instead of being glued to the
next event.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from agent_security.core.audit._sinkbase import (
    LOCK_TIMEOUT_S,
    MAX_LINE_BYTES,
    NOFOLLOW,
    PRIVATE_MODE,
    Closing,
    WrittenAsHead,
    create_private,
    lock_file,
    unlock_file,
)
from agent_security.core.files import open_regular
from agent_security.core.hookspecs import hookimpl
from agent_security.core.models import AuditEvent

__all__ = ["JsonlAuditSink", "jsonl_lines", "read_jsonl_lines"]

_TAIL_BLOCK = 64 * 1024


def read_jsonl_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, raw line)`` for each line; ``None`` for a line over :data:`MAX_LINE_BYTES`.

    Only a regular file is read (a FIFO or a device raises :class:`OSError` instead of blocking).
    """
    with open_regular(path) as fh:
        yield from jsonl_lines(fh)


def jsonl_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """:func:`read_jsonl_lines` for a file already open (binary, positioned at the start)."""
    lineno = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
                raw = fh.readline(MAX_LINE_BYTES + 1)
            yield lineno, None
            continue
        yield lineno, raw.rstrip(b"\n")


def _link_of(raw: bytes) -> tuple[int, str] | None:
    try:
        data = json.loads(raw)
        seq, digest = data["sequence"], data["hash"]
    except (ValueError, KeyError, TypeError):
        return None
    if type(seq) is int and isinstance(digest, str):
        return seq, digest
    return None


def _last_link(fd: int, size: int, what: str) -> tuple[int, str] | None:
    """``(sequence, hash)`` of the last readable event among the file's last lines (``None``: empty file).

    Reads backwards a block at a time, at most two maximum lines. A tail that holds no readable event
    raises ``ValueError`` (continuing at sequence 1 would start a second chain in the same file)."""
    if size == 0:
        return None
    end = size
    tail = b""
    limit = max(0, size - 2 * MAX_LINE_BYTES)
    while end > limit:
        start = max(limit, end - _TAIL_BLOCK)
        tail = os.pread(fd, end - start, start) + tail
        end = start
        lines = tail.split(b"\n")
        complete = lines if end == 0 else lines[1:]  # the first piece may be a partial line
        for raw in reversed(complete):
            if raw.strip() and (link := _link_of(raw)) is not None:
                return link
    raise ValueError(f"{what}: no readable audit event at the end of the file; cannot resume the chain")


class _Head:
    """The file as the trail's head, locked (see :meth:`JsonlAuditSink.lock_head`)."""

    def __init__(self, sink: JsonlAuditSink, fd: int) -> None:
        self._sink = sink
        self._fd = fd

    @property
    def link(self) -> tuple[int, str] | None:
        return self._sink._known_link(self._fd)

    def append(self, event: AuditEvent) -> None:
        self._sink._write_locked(self._fd, event)
        if event.hash:
            self._sink._written.add(event.hash)


class JsonlAuditSink(Closing):
    """Appends every event to a JSON Lines file (see the module doc for the fsync policy and sharing)."""

    fail_open = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = True,
        name: str = "audit_jsonl",
        lock_timeout_s: float = LOCK_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.path = Path(path)
        self.fsync = fsync
        self.lock_timeout_s = lock_timeout_s
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._known: tuple[int, tuple[int, str] | None] | None = None
        """``(file size, last link)`` after this sink's last write: the link, while nobody else wrote."""
        self._written = WrittenAsHead()
        self._fh: Any = os.fdopen(self._open(), "ab", buffering=0)
        with self._locked() as fd:
            self._repair_tail(fd)

    def _open(self) -> int:
        """The file opened for appending: created 0600 (whatever the umask); a symbolic link, a FIFO or a
        device is refused."""
        flags = (
            os.O_RDWR | os.O_APPEND | os.O_CREAT | NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        create_private(self.path)
        try:
            fd = os.open(self.path, flags, PRIVATE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and self.path.is_symlink()):
                raise OSError(
                    exc.errno, f"{self.path} is a symbolic link; the audit sink does not follow links"
                ) from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, f"{self.path} is not a regular file")
            if hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """The file descriptor, with this sink's thread lock and the cross-process file lock held."""
        with self._lock:
            if self._fh is None:
                raise RuntimeError(f"audit sink {self.name!r} is closed")
            if self._broken is not None:
                raise OSError(f"{self.path}: audit sink {self.name!r} refuses to write: {self._broken}")
            fd = self._fh.fileno()
            lock_file(fd, str(self.path), self.lock_timeout_s)
            try:
                yield fd
            finally:
                unlock_file(fd)

    def _sync(self) -> None:
        if self.fsync:
            os.fsync(self._fh.fileno())

    def _repair_tail(self, fd: int) -> int:
        """Give a file whose last line is torn (no newline at the end) a newline; its size. Call locked."""
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            self._fh.write(b"\n")  # torn last line: keep it visible, start a fresh line
            self._sync()
            size += 1
        return size

    def _known_link(self, fd: int) -> tuple[int, str] | None:
        """The last link of the file; call locked. Read from the file unless this sink wrote last."""
        size = os.fstat(fd).st_size
        known = self._known
        if known is not None and known[0] == size:
            return known[1]
        size = self._repair_tail(fd)
        link = _last_link(fd, size, str(self.path))
        self._known = (size, link)
        return link

    def _write_locked(self, fd: int, event: AuditEvent) -> None:
        if event.hash is None:
            raise ValueError("only chained events (with a hash) can be written")
        line = event.model_dump_json().encode() + b"\n"
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"audit event {event.sequence} is larger than {MAX_LINE_BYTES} bytes")
        before = self._repair_tail(fd)
        try:
            written = self._fh.write(line)
            if written != len(line):
                raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
            self._sync()
        except BaseException as exc:
            self._known = None
            self._undo(fd, before, exc)
            raise
        self._known = (before + len(line), (event.sequence, event.hash))

    @contextmanager
    def lock_head(self) -> Iterator[_Head]:
        """The file as the trail's shared head, locked against every other writer until the block ends."""
        with self._locked() as fd:
            yield _Head(self, fd)

    @hookimpl
    def agent_security_audit_event(self, event: AuditEvent) -> None:
        if self._written.take(event.hash):
            return  # written already, as the trail's head
        with self._locked() as fd:
            self._write_locked(fd, event)

    def _undo(self, fd: int, size: int, exc: BaseException) -> None:
        """Cut the file back to ``size`` after a failed write or fsync, so that neither torn bytes (the next
        line would be glued to them) nor an event the caller was told failed stay in it. If that fails
        too, every later write is refused (the pipeline denies with ``AUDIT_FAILURE``)."""
        try:
            os.ftruncate(fd, size)
            self._sync()
        except OSError as undo_exc:
            self._broken = (
                f"an earlier write failed ({exc}) and could not be undone ({undo_exc}); "
                "the end of the file may hold a partial or unconfirmed event"
            )

    def read(self) -> Iterator[AuditEvent]:
        """Every event in file order (a malformed line raises ``ValueError`` naming the line)."""
        for lineno, raw in read_jsonl_lines(self.path):
            if not raw:
                raise ValueError(f"{self.path}:{lineno}: empty or oversized line")
            try:
                yield AuditEvent.model_validate_json(raw)
            except ValueError as exc:
                raise ValueError(f"{self.path}:{lineno}: not an audit event ({type(exc).__name__})") from None

    def last_link(self) -> tuple[int, str] | None:
        """``(sequence, hash)`` of the last well-formed event in the file; ``None`` for an empty file.

        Only the tail is read. A file whose tail holds no readable event raises ``ValueError`` (resuming
        at sequence 1 would silently start a second chain in the same file).
        """
        with self._locked() as fd:
            return self._known_link(fd)

    @hookimpl
    def agent_security_shutdown(self) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._fh is None:
                return
            try:
                self._sync()
            finally:
                self._fh.close()
                self._fh = None
