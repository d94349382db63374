"""The two drivers of the check pipeline (``agent_security.core.pipeline.drive``): a pipeline generator
yields what it must wait for, gets the answer back (or the failure thrown in), and returns its result."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from agent_security.core.pipeline.drive import Blocking, Wait, drive_async, drive_sync


def no_wait(value: Any) -> Generator[Any, Any, Any]:
    return value
    yield  # a generator that never waits


def waits(*steps: Any) -> Generator[Any, Any, list[Any]]:
    seen = []
    for step in steps:
        seen.append((yield step))
    return seen


async def answer(value: Any) -> Any:
    return value


def raising(exc: BaseException) -> Any:
    raise exc


def test_sync_driver_returns_what_the_pipeline_returns() -> None:
    assert drive_sync(no_wait("decided")) == "decided"


def test_sync_driver_settles_each_wait_and_sends_the_answer_back() -> None:
    gen = waits(Blocking(lambda a, b: a + b, (2, 3), 5.0), Wait(answer("async"), 5.0))
    assert drive_sync(gen) == [5, "async"]


def test_sync_driver_throws_a_failed_wait_into_the_pipeline() -> None:
    def pipeline() -> Generator[Any, Any, str]:
        try:
            yield Blocking(raising, (ValueError("boom"),), 5.0)
        except ValueError as exc:
            return f"caught {exc}"
        return "not caught"

    assert drive_sync(pipeline()) == "caught boom"
    assert asyncio.run(drive_async(pipeline())) == "caught boom"


def test_a_pipeline_error_propagates_from_both_drivers() -> None:
    def pipeline() -> Generator[Any, Any, None]:
        raise KeyError("inside")
        yield

    with pytest.raises(KeyError):
        drive_sync(pipeline())
    with pytest.raises(KeyError):
        asyncio.run(drive_async(pipeline()))


def test_async_driver_awaits_each_wait_and_returns_the_result() -> None:
    gen = waits(Wait(answer(1), 5.0), Blocking(lambda: 2, (), 5.0))
    assert asyncio.run(drive_async(gen)) == [1, 2]
    assert asyncio.run(drive_async(no_wait("now"))) == "now"
