"""The two drivers of the check pipeline (``agent_security.core._drive``): a pipeline generator hands over
its result by appending it to the list the driver passes, and returns nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from agent_security.core._drive import _Blocking, _drive_async, _drive_sync, _Wait


def no_wait(out: list[Any], value: Any) -> Generator[Any, Any, None]:
    out.append(value)
    return
    yield  # a generator that never waits


def waits(out: list[Any], *steps: Any) -> Generator[Any, Any, None]:
    seen = []
    for step in steps:
        seen.append((yield step))
    out.append(seen)


async def answer(value: Any) -> Any:
    return value


def raising(exc: BaseException) -> Any:
    raise exc


def test_sync_driver_returns_what_the_pipeline_appended() -> None:
    out: list[Any] = []
    assert _drive_sync(no_wait(out, "decided"), out) == "decided"


def test_sync_driver_settles_each_wait_and_sends_the_answer_back() -> None:
    out: list[Any] = []
    gen = waits(out, _Blocking(lambda a, b: a + b, (2, 3), 5.0), _Wait(answer("async"), 5.0))
    assert _drive_sync(gen, out) == [5, "async"]


def test_sync_driver_throws_a_failed_wait_into_the_pipeline() -> None:
    def pipeline(out: list[Any]) -> Generator[Any, Any, None]:
        try:
            yield _Blocking(raising, (ValueError("boom"),), 5.0)
        except ValueError as exc:
            out.append(f"caught {exc}")

    out: list[Any] = []
    assert _drive_sync(pipeline(out), out) == "caught boom"


@pytest.mark.parametrize("count", [0, 2])
def test_a_pipeline_without_exactly_one_result_is_an_error_not_an_answer(count: int) -> None:
    for waits_first in (False, True):
        out: list[Any] = []

        def pipeline(out: list[Any] = out, waits_first: bool = waits_first) -> Generator[Any, Any, None]:
            if waits_first:
                yield _Blocking(lambda: None, (), 5.0)
            out.extend(["r"] * count)

        with pytest.raises(RuntimeError, match=f"{count} results"):
            _drive_sync(pipeline(), out)
        out.clear()
        with pytest.raises(RuntimeError, match=f"{count} results"):
            asyncio.run(_drive_async(pipeline(), out))


def test_a_pipeline_error_propagates_from_both_drivers() -> None:
    def pipeline(out: list[Any]) -> Generator[Any, Any, None]:
        raise KeyError("inside")
        yield

    with pytest.raises(KeyError):
        _drive_sync(pipeline([]), [])
    with pytest.raises(KeyError):
        asyncio.run(_drive_async(pipeline([]), []))


def test_async_driver_awaits_each_wait_and_returns_the_result() -> None:
    out: list[Any] = []
    gen = waits(out, _Wait(answer(1), 5.0), _Blocking(lambda: 2, (), 5.0))
    assert asyncio.run(_drive_async(gen, out)) == [1, 2]
    out2: list[Any] = []
    assert asyncio.run(_drive_async(no_wait(out2, "now"), out2)) == "now"
