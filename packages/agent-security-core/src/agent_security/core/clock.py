"""The clock: one injectable source of time for the pipeline, every built-in plugin and the store.

Three readings, each for one purpose:

* :meth:`Clock.now`: the wall-clock instant, timezone-aware UTC. Policy time conditions, audit
  timestamps and expiries read it.
* :meth:`Clock.time`: the same instant as seconds since the Unix epoch. Rate windows, TTLs and session
  lifetimes in the store are measured on it, because it is the one reading that two processes (or two
  hosts with synchronised clocks) can compare: a window opened by one hook process is the same window
  for the next one.
* :meth:`Clock.monotonic`: never goes backwards, meaningful only inside one process. Timeouts and waits
  (an approval's deadline, a hook's timeout) are measured on it.

:class:`SystemClock` reads the machine's clocks; tests inject :class:`~agent_security.core.testing.FakeClock`
(``AgentSecurity(clock=FakeClock())``) so that nothing depends on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_CLOCK", "CallableClock", "Clock", "SystemClock", "as_clock"]


@runtime_checkable
class Clock(Protocol):
    """What the core reads the time from. Implementations must be thread-safe."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current instant in seconds since the Unix epoch (comparable across processes)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (comparable only inside this process)."""
        ...


class SystemClock:
    """The machine's clocks."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()
"""The default clock of every ``AgentSecurity``, built-in plugin and store."""


class CallableClock:
    """A clock made of a wall-clock function and, optionally, a monotonic one (the 0.1 keyword arguments
    ``AgentSecurity(clock=fn, monotonic=fn)``). Without ``monotonic``, the wall clock stands in for it."""

    __slots__ = ("_monotonic", "_now")

    def __init__(self, now: Callable[[], datetime], monotonic: Callable[[], float] | None = None) -> None:
        self._now = now
        self._monotonic = monotonic

    def now(self) -> datetime:
        value = self._now()
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        return self._monotonic() if self._monotonic is not None else self.time()


def as_clock(clock: Clock | Callable[[], datetime] | None, monotonic: Callable[[], float] | None = None) -> Clock:
    """``clock`` as a :class:`Clock`: a clock object as it is, a function returning ``datetime`` wrapped
    (with ``monotonic`` when given), ``None`` the system clock (or the system wall clock with
    ``monotonic``)."""
    if clock is None:
        return SYSTEM_CLOCK if monotonic is None else CallableClock(SYSTEM_CLOCK.now, monotonic)
    if isinstance(clock, Clock):
        if monotonic is None:
            return clock
        return CallableClock(clock.now, monotonic)
    if callable(clock):
        return CallableClock(clock, monotonic)
    raise TypeError(f"clock must be a Clock or a function returning a datetime, not {type(clock).__name__}")
