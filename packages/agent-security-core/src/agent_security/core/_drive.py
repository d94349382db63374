"""How the check pipeline waits: the steps its generator yields, and the two drivers that run it.

The pipeline (:meth:`agent_security.core.sdk.AgentSecurity._check`) is one generator that yields a
:class:`_Wait` (an awaitable, e.g. an ``async def`` hook's result) or a :class:`_Blocking` (a plain
function that may block, e.g. an approval callback) whenever it must wait. :func:`_drive_sync` settles
each step on the caller's thread (blocking work in a private pool, bounded by its timeout);
:func:`_drive_async` awaits it on the running loop. Both resume the generator through :func:`_advance`.
The pipeline hands over its result by appending it to a list the driver passes, and returns nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")



@dataclass(slots=True)
class _Wait:
    """Wait for ``awaitable`` (an ``async def`` hook's result), bounded by ``timeout`` seconds."""

    awaitable: Awaitable[Any]
    timeout: float | None


@dataclass(slots=True)
class _Blocking:
    """Run a plain function that may block (an approval callback) off the caller's thread, on
    ``workers`` (the instance's; the shared default when ``None``)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    timeout: float | None
    workers: Workers | None = None


class _Timeout(Exception):
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


class _Cancelled(Exception):
    """Thrown into the pipeline when the task awaiting it was cancelled during a wait (see
    :func:`_drive_async`): the pipeline ends as a denial, audited, with its reservations released."""


_MAX_CANCELLED_STEPS = 64


# BaseExceptions that end the process or the task and must propagate. Any other BaseException raised by
# a plugin or callback (gevent.Timeout, trio.Cancelled, a library's own) is a plugin failure: DENY.
_FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)
# Raised by plugin or callback code itself (never by the drivers), CancelledError and GeneratorExit are
# that code's failure, not this task's cancellation: only these two end a check from inside a hook.
_PROCESS_FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit)
_CLOSING: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit)
"""What propagates through a wait inside the pipeline (GeneratorExit: the driver closed it)."""


_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="agent-security")
_DEFAULT_WORKERS = Workers(32)


def _run_coroutine_sync(aw: Awaitable[Any], timeout: float | None) -> Any:
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


def _settle_sync(step: _Wait | _Blocking) -> _Settled:
    try:
        if isinstance(step, _Wait):
            return _run_coroutine_sync(step.awaitable, step.timeout), None
        fut = (step.workers or _DEFAULT_WORKERS).submit(step.fn, *step.args)
        value = fut.result(timeout=step.timeout)
        if inspect.isawaitable(value):
            value = _run_coroutine_sync(value, step.timeout)
        return value, None
    except TimeoutError:  # also concurrent.futures.TimeoutError, its alias
        return None, _Timeout()
    except BaseException as exc:  # handed back to the pipeline, which decides (fail closed)
        return None, exc


async def _settle_async(step: _Wait | _Blocking) -> _Settled:
    try:
        if isinstance(step, _Wait):
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
        return None, _Timeout()
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # this task is being cancelled
        return None, exc  # the awaited hook or callback raised it itself: its failure
    except BaseException as exc:
        return None, exc


_END = object()


def _result(out: list[R]) -> R:
    if len(out) != 1:  # a pipeline that ended without handing over exactly one result is a bug: never an allow
        raise RuntimeError(f"the pipeline ended with {len(out)} results instead of one")
    return out[0]


def _drive_sync(gen: Generator[Any, Any, None], out: list[R]) -> R:
    """Run the pipeline ``gen`` on this thread; it hands over its result by appending it to ``out``.

    The usual check never waits: its one step ends the generator, and ``next(gen, _END)`` sees it end
    without an exception object (a generator that *returns* a value raises ``StopIteration(value)``: an
    instance and a traceback, ~0.3 µs a check)."""
    step: Any = next(gen, _END)
    if step is _END:
        return _result(out)
    while True:
        done, step = _advance(gen, _settle_sync(step))
        if done:
            return _result(out)


async def _drive_async(gen: Generator[Any, Any, None], out: list[R]) -> R:
    """:func:`_drive_sync` on the running loop: each wait is awaited."""
    step: Any = next(gen, _END)
    while step is not _END:
        try:
            settled = await _settle_async(step)
        except asyncio.CancelledError:
            _finish_cancelled(gen)
            raise
        done, step = _advance(gen, settled)
        if done:
            break
    return _result(out)


def _finish_cancelled(gen: Generator[Any, Any, Any]) -> None:
    """The task was cancelled while the pipeline waited: throw :class:`_Cancelled` into it, and into every
    further wait, so it ends as a denial that is audited and releases what it reserved (plain hooks still
    run; nothing more is awaited). The cancellation then propagates to the caller."""
    settled: _Settled = (None, _Cancelled())
    try:
        for _ in range(_MAX_CANCELLED_STEPS):
            done, _step = _advance(gen, settled)
            if done:
                return
    except Exception:  # noqa: S110 - the caller gets its CancelledError whatever the pipeline did
        pass
    finally:
        gen.close()
