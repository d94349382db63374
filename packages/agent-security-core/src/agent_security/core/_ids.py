"""Identifiers and the clock the core reads on every check (compiled with the hot path).

:func:`new_id` names requests and audit events. Those ids must be unique, not unpredictable, and two
are made per check, so an id is a per-process random part plus a counter: a UUID string in the RFC 9562
version 8 ("custom") layout, ``xxxxxxxx-xxxx-8xxx-Vxxx-cccccccccccc``. The first 74 free bits are random,
drawn once per process from the OS (and again in a forked child); the last 48 are a counter that starts
at a random value. Within a process no id repeats before 2**48 ids; across processes two ids collide only
if their random parts do (one chance in 2**74 per pair of processes).

:func:`random_id` is a version 4 UUID from :mod:`secrets`, for values that must not be guessable (the
single-use nonce of an approval).
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["new_id", "random_id", "utcnow"]

_COUNTER_MASK = (1 << 48) - 1
_COUNTER_BIT = 1 << 48  # set above the counter: ``hex`` then always writes 13 digits, "1" and 12 zero-padded


def _fresh_state() -> tuple[str, Callable[[], int]]:
    """A random prefix (the UUID up to its last group, version 8 and variant ``10`` set) and a counter."""
    bits = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 of them used
    a, b, c, d = bits >> 48, (bits >> 32) & 0xFFFF, (bits >> 20) & 0x0FFF, (bits >> 6) & 0x3FFF
    prefix = f"{a:08x}-{b:04x}-8{c:03x}-{0x8000 | d:04x}-"
    start = int.from_bytes(os.urandom(6), "big")
    counter = itertools.count(start).__next__
    if getattr(sys, "_is_gil_enabled", lambda: True)():
        return prefix, counter  # ``next`` on itertools.count is atomic under the GIL
    lock = threading.Lock()

    def locked() -> int:
        with lock:
            return counter()

    return prefix, locked


_state = _fresh_state()


def _reseed() -> None:
    global _state
    _state = _fresh_state()


if hasattr(os, "register_at_fork"):  # a forked worker must not repeat its parent's ids
    os.register_at_fork(after_in_child=_reseed)


def new_id() -> str:
    """A unique id for a request or an audit event (UUID string, version 8 layout; see the module)."""
    prefix, counter = _state  # one tuple, replaced whole: a concurrent fork handler never mixes two
    # hex() is several times cheaper than a format spec: "0x1" + the 12 digits of the counter's 48 bits
    return prefix + hex(counter() & _COUNTER_MASK | _COUNTER_BIT)[3:]


def random_id() -> str:
    """A random, unguessable UUID string (version 4), from the OS's cryptographic generator."""
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the one clock the core reads; tests inject their own)."""
    return datetime.now(UTC)
