"""How the check pipeline waits: the steps its generator yields, and the two drivers that run it.

The pipeline (:func:`agent_security.core.pipeline.check.run_check`) is one generator that yields a
:class:`Wait` (an awaitable, e.g. an ``async def`` hook's result) or a :class:`Blocking` (a plain
function that may block, e.g. an approval callback) whenever it must wait. :func:`drive_sync` settles
each step on the caller's thread (blocking work in a private pool, bounded by its timeout);
:func:`drive_async` awaits it on the running loop. Both resume the generator through :func:`_advance`
and return what it returns.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import inspect
import sys
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

__all__ = [
    "CLOSING",
    "PROCESS_FATAL",
    "Blocking",
    "Cancelled",
    "Saturated",
    "Wait",
    "WaitTimeout",
    "Workers",
    "drive_async",
    "drive_sync",
    "is_fatal",
    "run_coroutine_sync",
]

R = TypeVar("R")


@dataclass(slots=True)
class Wait:
    """Wait for ``awaitable`` (an ``async def`` hook's result), bounded by ``timeout`` seconds."""

    awaitable: Awaitable[Any]
    timeout: float | None


@dataclass(slots=True)
class Blocking:
    """Run a plain function that may block (an approval callback) off the caller's thread, on
    ``workers`` (the instance's; the shared default when ``None``)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    timeout: float | None
    workers: Workers | None = None


class WaitTimeout(Exception):
    pass


class Saturated(Exception):
    """Every worker thread is busy with a blocking wait (approval callbacks that have not answered)."""


class Workers:
    """Threads for blocking callbacks, at most ``limit`` busy at once. A wait past that is refused at
    once (:class:`Saturated`) rather than queued behind callbacks that may not answer for minutes (a
    human reviewer): the caller gets a prompt denial instead of a timeout, and one instance's hung
    reviews cannot hold up another instance's approvals."""

    def __init__(self, limit: int, name: str = "agent-security") -> None:
        if limit < 1:
            raise ValueError("the worker limit must be >= 1")
        self.limit = limit
        self._free = threading.BoundedSemaphore(limit)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=limit, thread_name_prefix=name)

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        if not self._free.acquire(blocking=False):
            raise Saturated(f"all {self.limit} callback workers are busy")

        def run() -> Any:
            try:
                return fn(*args)
            finally:  # before the future completes: whoever sees the answer can submit again at once
                self._free.release()

        try:
            return self._pool.submit(run)
        except BaseException:
            self._free.release()
            raise

    def shutdown(self) -> None:
        """Stop taking work; callbacks still running finish on their own (never waited for)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class Cancelled(Exception):
    """Thrown into the pipeline when the task awaiting it was cancelled during a wait (see
    :func:`drive_async`): the pipeline ends as a denial, audited, with its reservations released."""


_MAX_CANCELLED_STEPS = 64


def is_fatal(error: BaseException) -> bool:
    """Whether ``error`` ends the process or the task and must propagate. Any other BaseException raised by
    a plugin or callback (gevent.Timeout, trio.Cancelled, a library's own) is a plugin failure: DENY.

    asyncio is imported where a coroutine is run, not with this module (a synchronous check in a fresh
    process, a host's hook, never needs it); its CancelledError can only have been raised once it is."""
    if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(error, asyncio.CancelledError)


# Raised by plugin or callback code itself (never by the drivers), CancelledError and GeneratorExit are
# that code's failure, not this task's cancellation: only these two end a check from inside a hook.
PROCESS_FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit)
CLOSING: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit)
"""What propagates through a wait inside the pipeline (GeneratorExit: the driver closed it)."""


_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="agent-security")
_DEFAULT_WORKERS = Workers(32)


def run_coroutine_sync(aw: Awaitable[Any], timeout: float | None) -> Any:
    import asyncio

    async def bounded() -> Any:
        return await asyncio.wait_for(aw, timeout)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())
    # Called synchronously from inside a running loop: run the coroutine on a private loop in a worker.
    # The wait is bounded too (a saturated pool must not hang the caller); the margin lets wait_for fire.
    return _EXECUTOR.submit(asyncio.run, bounded()).result(timeout=None if timeout is None else timeout + 1.0)


_Settled = tuple[Any, BaseException | None]
"""What a wait ended with: ``(value, None)``, or ``(None, error)`` to throw into the pipeline."""


def _advance(gen: Generator[Any, Any, Any], settled: _Settled) -> tuple[bool, Any]:
    """Resume the pipeline with the last wait's outcome: ``(True, returned)`` once it returns, else
    ``(False, next_step)``. Shared by both drivers, which differ only in how they wait."""
    value, error = settled
    try:
        return False, (gen.throw(error) if error is not None else gen.send(value))
    except StopIteration as stop:
        return True, stop.value


def _settle_sync(step: Wait | Blocking) -> _Settled:
    try:
        if isinstance(step, Wait):
            return run_coroutine_sync(step.awaitable, step.timeout), None
        fut = (step.workers or _DEFAULT_WORKERS).submit(step.fn, *step.args)
        value = fut.result(timeout=step.timeout)
        if inspect.isawaitable(value):
            value = run_coroutine_sync(value, step.timeout)
        return value, None
    except TimeoutError:  # also concurrent.futures.TimeoutError, its alias
        return None, WaitTimeout()
    except BaseException as exc:  # handed back to the pipeline, which decides (fail closed)
        return None, exc


async def _settle_async(step: Wait | Blocking) -> _Settled:
    import asyncio

    try:
        if isinstance(step, Wait):
            return await asyncio.wait_for(step.awaitable, step.timeout), None
        # The private pool, as in the synchronous driver: callbacks still running after their timeout
        # (a human who never answers) must not exhaust the loop's default executor, which the
        # application and asyncio itself (getaddrinfo) depend on.
        call = functools.partial(contextvars.copy_context().run, step.fn, *step.args)
        future = (step.workers or _DEFAULT_WORKERS).submit(call)
        value = await asyncio.wait_for(asyncio.wrap_future(future), step.timeout)
        if inspect.isawaitable(value):
            value = await asyncio.wait_for(value, step.timeout)
        return value, None
    except TimeoutError:
        return None, WaitTimeout()
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # this task is being cancelled
        return None, exc  # the awaited hook or callback raised it itself: its failure
    except BaseException as exc:
        return None, exc


def drive_sync(gen: Generator[Any, Any, R]) -> R:
    """Run the pipeline ``gen`` to its end on this thread and return what it returns."""
    settled: _Settled = (None, None)
    while True:
        done, step = _advance(gen, settled)
        if done:
            return cast(R, step)
        settled = _settle_sync(step)


async def drive_async(gen: Generator[Any, Any, R]) -> R:
    """:func:`drive_sync` on the running loop: each wait is awaited."""
    import asyncio

    settled: _Settled = (None, None)
    while True:
        done, step = _advance(gen, settled)
        if done:
            return cast(R, step)
        try:
            settled = await _settle_async(step)
        except asyncio.CancelledError:
            _finish_cancelled(gen)
            raise


def _finish_cancelled(gen: Generator[Any, Any, Any]) -> None:
    """The task was cancelled while the pipeline waited: throw :class:`Cancelled` into it, and into every
    further wait, so it ends as a denial that is audited and releases what it reserved (plain hooks still
    run; nothing more is awaited). The cancellation then propagates to the caller."""
    settled: _Settled = (None, Cancelled())
    try:
        for _ in range(_MAX_CANCELLED_STEPS):
            done, _step = _advance(gen, settled)
            if done:
                return
    except Exception:  # noqa: S110 - the caller gets its CancelledError whatever the pipeline did
        pass
    finally:
        gen.close()
