"""Tests for structlogx.context: bound values across blocks, records, threads and tasks."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from structlogx import context
from structlogx.formatters import JSONFormatter

THREADS_INHERIT_CONTEXT = bool(getattr(sys.flags, "thread_inherit_context", False))


@pytest.fixture(autouse=True)
def clean_context() -> Iterator[None]:
    """Every test starts from (and must leave) an empty context."""
    with context.isolated():
        yield
        assert dict(context.current()) == {}


def run_in_thread(target: Callable[[], Any]) -> Any:
    """Run *target* in a new thread; return its result or re-raise its exception."""
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def snapshot() -> dict[str, Any]:
    return dict(context.current())


# -- bind ------------------------------------------------------------------------------------


def test_empty_by_default() -> None:
    assert snapshot() == {}


def test_bind_adds_values_and_yields_the_combined_context() -> None:
    with context.bind(request_id="r-1", user="alice") as bound:
        assert snapshot() == {"request_id": "r-1", "user": "alice"}
        assert dict(bound) == {"request_id": "r-1", "user": "alice"}

    assert snapshot() == {}


def test_nested_bind_adds_shadows_and_restores() -> None:
    with context.bind(request_id="r-1", user="alice"):
        with context.bind(user="bob", step=2) as inner:
            assert snapshot() == {"request_id": "r-1", "user": "bob", "step": 2}
            assert dict(inner) == {"request_id": "r-1", "user": "bob", "step": 2}
        assert snapshot() == {"request_id": "r-1", "user": "alice"}

    assert snapshot() == {}


def test_bind_restores_on_exception() -> None:
    with context.bind(request_id="outer"):
        with pytest.raises(KeyError), context.bind(request_id="inner", extra=1):
            raise KeyError("boom")

        assert snapshot() == {"request_id": "outer"}


def test_empty_bind_keeps_the_current_values() -> None:
    with context.bind(a=1), context.bind():
        assert snapshot() == {"a": 1}


def _set_item(mapping: Any) -> None:
    mapping["a"] = 2


def _add_item(mapping: Any) -> None:
    mapping["b"] = 2


def _del_item(mapping: Any) -> None:
    del mapping["a"]


@pytest.mark.parametrize("mutate", [_set_item, _add_item, _del_item], ids=lambda f: f.__name__)
def test_current_is_read_only(mutate: Callable[[Any], None]) -> None:
    with context.bind(a=1):
        with pytest.raises(TypeError):
            mutate(context.current())

        assert snapshot() == {"a": 1}


def test_current_has_no_mutating_methods() -> None:
    assert not hasattr(context.current(), "update")
    assert not hasattr(context.current(), "pop")


def test_yielded_mapping_is_read_only() -> None:
    with context.bind(a=1) as bound:
        writable: Any = bound
        with pytest.raises(TypeError):
            writable["a"] = 2


def test_snapshot_taken_earlier_is_unaffected_by_later_binds() -> None:
    with context.bind(a=1):
        before = context.current()
        with context.bind(a=2, b=3):
            pass

    assert dict(before) == {"a": 1}


def test_bound_values_are_not_copied() -> None:
    payload = {"items": [1, 2]}

    with context.bind(payload=payload):
        assert payload is context.current()["payload"]


def test_isolated_gives_empty_context_and_restores() -> None:
    with context.bind(request_id="r-1"):
        with context.isolated():
            assert snapshot() == {}
            with context.bind(job="cleanup"):
                assert snapshot() == {"job": "cleanup"}
            assert snapshot() == {}
        assert snapshot() == {"request_id": "r-1"}


def test_isolated_restores_on_exception() -> None:
    with context.bind(request_id="r-1"):
        with pytest.raises(RuntimeError), context.isolated():
            raise RuntimeError("job failed")

        assert snapshot() == {"request_id": "r-1"}


# -- records ---------------------------------------------------------------------------------


@pytest.fixture
def json_lines() -> Iterator[tuple[logging.Logger, Callable[[], list[dict[str, Any]]]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("structlogx_tests.context")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield logger, lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    logger.propagate = old_propagate


def test_bound_values_reach_json_records(
    json_lines: tuple[logging.Logger, Callable[[], list[dict[str, Any]]]],
) -> None:
    logger, lines = json_lines

    with context.bind(request_id="r-1", user_name="alice"):
        logger.info("inside")
        with context.bind(request_id="r-2"):
            logger.info("nested")
    logger.info("outside")

    inside, nested, outside = lines()
    assert (
        inside["message"],
        inside["request_id"],
        inside["user_name"],
    ) == ("inside", "r-1", "alice")
    assert (
        nested["message"],
        nested["request_id"],
        nested["user_name"],
    ) == ("nested", "r-2", "alice")
    assert outside["message"] == "outside"
    assert "request_id" not in outside
    assert "user_name" not in outside


def test_non_json_bound_values_are_made_safe_in_records(
    json_lines: tuple[logging.Logger, Callable[[], list[dict[str, Any]]]],
) -> None:
    logger, lines = json_lines

    with context.bind(tags={"b", "a"}, ratio=float("nan")):
        logger.info("odd values")

    (line,) = lines()
    assert (line["tags"], line["ratio"]) == (["a", "b"], "NaN")


# -- threads ---------------------------------------------------------------------------------


@pytest.mark.skipif(THREADS_INHERIT_CONTEXT, reason="this interpreter copies context to threads")
def test_plain_thread_does_not_see_bound_values() -> None:
    with context.bind(request_id="r-1"):
        seen = run_in_thread(snapshot)

    assert seen == {}


def test_wrapped_function_in_thread_sees_bound_values() -> None:
    with context.bind(request_id="r-1"):
        seen = run_in_thread(context.wrap(snapshot))

    assert seen == {"request_id": "r-1"}


def test_wrap_takes_the_snapshot_when_wrapping_not_when_called() -> None:
    with context.bind(request_id="at-wrap"):
        wrapped = context.wrap(snapshot)

    with context.bind(request_id="at-call"):
        assert run_in_thread(wrapped) == {"request_id": "at-wrap"}
        assert wrapped() == {"request_id": "at-wrap"}


def test_wrap_passes_arguments_results_and_metadata() -> None:
    def add(a: int, b: int = 0) -> int:
        """Add two numbers."""
        return a + b

    wrapped = context.wrap(add)

    assert (wrapped(2, b=3), wrapped.__name__, wrapped.__doc__) == (5, "add", "Add two numbers.")


def test_copy_context_run_in_thread_sees_bound_values() -> None:
    with context.bind(request_id="r-1"):
        copied = contextvars.copy_context()

    assert run_in_thread(lambda: copied.run(snapshot)) == {"request_id": "r-1"}


def test_wrapped_function_runs_concurrently_without_leaking_binds() -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=10)
    results: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        with context.bind(worker=index):
            barrier.wait()  # every call is inside its own bind at the same time
            inside = snapshot()
            barrier.wait()
        results[index] = (inside, snapshot())

    with context.bind(request_id="r-1"):
        wrapped = context.wrap(work)

    def thread_main(index: int) -> None:
        try:  # also catches errors raised by wrap itself ("cannot enter context")
            wrapped(index)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=thread_main, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert {
        index: ({"request_id": "r-1", "worker": index}, {"request_id": "r-1"})
        for index in range(workers)
    } == results


_LEAK: contextvars.ContextVar[int | None] = contextvars.ContextVar("leak", default=None)


def test_each_call_of_a_wrapped_function_gets_its_own_copy() -> None:
    def set_without_reset(value: int) -> tuple[int | None, dict[str, Any]]:
        seen = _LEAK.get()
        _LEAK.set(value)  # never reset: must stay inside this call
        return seen, snapshot()

    with context.bind(request_id="r-1"):
        wrapped = context.wrap(set_without_reset)

    assert [
        wrapped(1),
        run_in_thread(lambda: wrapped(2)),
        wrapped(3),
    ] == [(None, {"request_id": "r-1"})] * 3
    assert _LEAK.get() is None


def test_thread_pool_executor_with_wrap() -> None:
    def work(index: int) -> tuple[int, dict[str, Any]]:
        with context.bind(item=index):
            return index, snapshot()

    with context.bind(request_id="r-1"), ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(context.wrap(work), index) for index in range(20)]
        results = sorted(future.result(timeout=10) for future in futures)

    assert [(index, {"request_id": "r-1", "item": index}) for index in range(20)] == results


def test_thread_pool_executor_map_with_one_wrapped_function() -> None:
    with context.bind(request_id="r-1"):
        wrapped = context.wrap(lambda index: (index, snapshot()))
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(wrapped, range(10)))

    assert [(index, {"request_id": "r-1"}) for index in range(10)] == results


@pytest.mark.skipif(THREADS_INHERIT_CONTEXT, reason="this interpreter copies context to threads")
def test_thread_pool_executor_without_wrap_does_not_see_values() -> None:
    with context.bind(request_id="r-1"), ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(snapshot).result(timeout=10)

    assert seen == {}


# -- asyncio ---------------------------------------------------------------------------------


def test_tasks_created_inside_bind_see_the_values() -> None:
    async def child() -> dict[str, Any]:
        await asyncio.sleep(0)
        return snapshot()

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        with context.bind(request_id="r-1"):
            task = asyncio.create_task(child())
        outside = snapshot()
        return await task, outside

    assert asyncio.run(main()) == ({"request_id": "r-1"}, {})


def test_bind_inside_task_does_not_leak_to_parent_or_siblings() -> None:
    async def worker(
        name: str, step: asyncio.Event, other: asyncio.Event
    ) -> list[Mapping[str, Any]]:
        seen = [snapshot()]
        with context.bind(worker=name):
            step.set()
            await other.wait()  # the sibling is inside its own bind now
            await asyncio.sleep(0)
            seen.append(snapshot())
        seen.append(snapshot())
        return seen

    async def main() -> tuple[list[list[Mapping[str, Any]]], dict[str, Any]]:
        first, second = asyncio.Event(), asyncio.Event()
        with context.bind(request_id="r-1"):
            results = await asyncio.gather(worker("a", first, second), worker("b", second, first))
            return list(results), snapshot()

    results, parent = asyncio.run(main())

    assert results == [
        [{"request_id": "r-1"}, {"request_id": "r-1", "worker": "a"}, {"request_id": "r-1"}],
        [{"request_id": "r-1"}, {"request_id": "r-1", "worker": "b"}, {"request_id": "r-1"}],
    ]
    assert parent == {"request_id": "r-1"}


def test_isolated_inside_task_does_not_affect_parent() -> None:
    async def job() -> dict[str, Any]:
        with context.isolated():
            await asyncio.sleep(0)
            return snapshot()

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        with context.bind(request_id="r-1"):
            seen = await asyncio.create_task(job())
            return seen, snapshot()

    assert asyncio.run(main()) == ({}, {"request_id": "r-1"})


def test_to_thread_carries_the_context() -> None:
    async def main() -> dict[str, Any]:
        with context.bind(request_id="r-1"):
            return await asyncio.to_thread(snapshot)

    assert asyncio.run(main()) == {"request_id": "r-1"}
