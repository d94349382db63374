"""How the check pipeline waits: the steps its generator yields, and the two drivers that run it.

The pipeline (:meth:`agent_security.core.sdk.AgentSecurity._check`) is one generator that yields a
:class:`_Wait` (an awaitable, e.g. an ``async def`` hook's result) or a :class:`_Blocking` (a plain
function that may block, e.g. an approval callback) whenever it must wait. :func:`_drive_sync` settles
each step on the caller's thread (blocking work in a private pool, bounded by its timeout);
:func:`_drive_async` awaits it on the running loop. Both resume the generator through :func:`_advance`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

R = TypeVar("R")



@dataclass(slots=True)
class _Wait:
    """Wait for ``awaitable`` (an ``async def`` hook's result), bounded by ``timeout`` seconds."""

    awaitable: Awaitable[Any]
    timeout: float | None


@dataclass(slots=True)
class _Blocking:
    """Run a plain function that may block (an approval callback) off the caller's thread."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    timeout: float | None


class _Timeout(Exception):
    pass


# BaseExceptions that end the process or the task and must propagate. Any other BaseException raised by
# a plugin or callback (gevent.Timeout, trio.Cancelled, a library's own) is a plugin failure: DENY.
_FATAL: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="agent-security")


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


def _advance(gen: Generator[Any, Any, R], settled: _Settled) -> tuple[bool, Any]:
    """Resume the pipeline with the last wait's outcome: ``(True, result)`` once it returns, else
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
        fut = _EXECUTOR.submit(step.fn, *step.args)
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
        value = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(_EXECUTOR, call), step.timeout)
        if inspect.isawaitable(value):
            value = await asyncio.wait_for(value, step.timeout)
        return value, None
    except TimeoutError:
        return None, _Timeout()
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        return None, exc


def _drive_sync(gen: Generator[Any, Any, R]) -> R:
    settled: _Settled = (None, None)
    while True:
        done, step = _advance(gen, settled)
        if done:
            return cast(R, step)
        settled = _settle_sync(step)


async def _drive_async(gen: Generator[Any, Any, R]) -> R:
    settled: _Settled = (None, None)
    while True:
        done, step = _advance(gen, settled)
        if done:
            return cast(R, step)
        settled = await _settle_async(step)
