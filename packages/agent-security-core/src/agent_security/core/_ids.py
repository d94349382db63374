"""Identifiers and the clock the core reads on every check (compiled with the hot path).

:func:`new_id` names requests and audit events. Those ids must be unique, not unpredictable, and two
are made per check, so an id is a per-process random part plus a counter: a UUID string in the RFC 9562
version 8 ("custom") layout, ``xxxxxxxx-xxxx-8xxx-Vxxx-cccccccccccc``. The first 74 free bits are random,
drawn once per process from the OS (and again in a forked child); the last 48 are a counter that starts
at a random multiple of 256. Within a process no id repeats before 2**48 ids; across processes two ids
collide only if their random parts do (one chance in 2**74 per pair of processes).

Ids are written 256 at a time (one block of the counter: its first 40 bits once, then each of the 256
values of its last 8), so making one is taking the next string of a list, about a third of the cost of
formatting it.

:func:`random_id` is a version 4 UUID from :mod:`secrets`, for values that must not be guessable (the
single-use nonce of an approval).
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

__all__ = ["new_id", "random_id", "utcnow"]

_BLOCK_MASK = (1 << 40) - 1
_BLOCK_BIT = 1 << 40  # set above the block: ``hex`` then always writes 11 digits, "1" and 10 zero-padded
_LOW = tuple(f"{n:02x}" for n in range(256))
"""The last two hex digits of the ids of one block."""


def _fresh_state() -> tuple[str, Callable[[], int]]:
    """A random prefix (the UUID up to its last group, version 8 and variant ``10`` set) and a counter of
    blocks (each block is 256 ids)."""
    bits = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 of them used
    a, b, c, d = bits >> 48, (bits >> 32) & 0xFFFF, (bits >> 20) & 0x0FFF, (bits >> 6) & 0x3FFF
    prefix = f"{a:08x}-{b:04x}-8{c:03x}-{0x8000 | d:04x}-"
    start = int.from_bytes(os.urandom(5), "big")
    return prefix, itertools.count(start).__next__  # ``next`` on itertools.count is atomic under the GIL


_state = _fresh_state()
_ids: Iterator[str] = iter(())
"""The rest of the current block."""


def _reseed() -> None:
    global _state, _ids
    _state = _fresh_state()
    _ids = iter(())


if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's ids
    os.register_at_fork(after_in_child=_reseed)


def _block() -> Iterator[str]:
    """The 256 ids of the next block of the counter."""
    prefix, counter = _state  # one tuple, replaced whole: a concurrent fork handler never mixes two
    head = prefix + hex(counter() & _BLOCK_MASK | _BLOCK_BIT)[3:]  # "0x1" + the block's 10 digits
    return iter([head + low for low in _LOW])


def new_id() -> str:
    """A unique id for a request or an audit event (UUID string, version 8 layout; see the module)."""
    global _ids
    value = next(_ids, None)  # a list iterator's ``next`` is atomic under the GIL
    if value is None:
        # Two threads may both find the block used up: each takes a block of its own (the counter hands
        # out each block once), and the one whose block is replaced by the other's loses only unused ids.
        _ids = ids = _block()
        value = next(ids)
    return value


if not getattr(sys, "_is_gil_enabled", lambda: True)():  # free-threaded Python: iterators are not atomic
    _unlocked_new_id = new_id
    _lock = threading.Lock()

    def _locked_new_id() -> str:
        with _lock:
            return _unlocked_new_id()

    _locked_new_id.__doc__ = new_id.__doc__
    new_id = _locked_new_id


def random_id() -> str:
    """A random, unguessable UUID string (version 4), from the OS's cryptographic generator."""
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the one clock the core reads; tests inject their own)."""
    return datetime.now(UTC)
