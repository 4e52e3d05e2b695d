"""The one micro-batcher (identity/batching.py): batches form by load, each item gets its own
outcome, one failing item never fails the others, and a caller that goes away leaves its batch
running for the rest."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from identity.batching import MicroBatcher

EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch-test")


class Recorder:
    """A batch function that records the batches it was given; odd numbers fail alone."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate

    def __call__(self, items: list[int]) -> list[Any]:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        self.batches.append(list(items))
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


def _gather(batcher: MicroBatcher[int, int], items: list[int]) -> list[Any]:
    async def run() -> list[Any]:
        return await asyncio.gather(*(batcher.submit(i) for i in items), return_exceptions=True)

    return asyncio.run(run())


def test_items_of_one_turn_go_together_and_each_gets_its_own_outcome() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, executor=EXECUTOR)
    outcomes = _gather(batcher, [0, 1, 2, 3, 4])
    assert run.batches == [[0, 1, 2, 3, 4]]
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        0,
        "odd 1",
        20,
        "odd 3",
        40,
    ]
    assert (batcher.batches, batcher.items) == (1, 5)


def test_a_batch_is_at_most_max_batch_and_in_flight_bounds_running_batches() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, executor=EXECUTOR, max_batch=2)
    _gather(batcher, [0, 2, 4, 6, 8])
    assert run.batches == [[0, 2], [4, 6], [8]]


def test_arrivals_during_a_batch_wait_and_go_together_in_the_next() -> None:
    gate = threading.Event()
    run = Recorder(gate)
    batcher = MicroBatcher(run, executor=EXECUTOR)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(batcher.submit(0))
        await asyncio.sleep(0.05)  # the first batch is running (held at the gate)
        later = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 4, 6)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(first, *later)

    assert asyncio.run(scenario()) == [0, 20, 40, 60]
    assert run.batches == [[0], [2, 4, 6]]


def test_a_failing_batch_fails_its_items_only() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        if 13 in items:
            raise RuntimeError("the database went away")
        return items

    batcher = MicroBatcher(run, executor=EXECUTOR, key=lambda i: i >= 10)
    outcomes = _gather(batcher, [1, 2, 13, 14])
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [
        1,
        2,
        "the database went away",
        "the database went away",
    ]
    assert sorted(calls) == [[1, 2], [13, 14]]  # keys never share a batch


def test_a_caller_that_goes_away_leaves_the_batch_to_the_others() -> None:
    gate = threading.Event()
    run = Recorder(gate)
    batcher = MicroBatcher(run, executor=EXECUTOR)

    async def scenario() -> Any:
        leader = asyncio.ensure_future(batcher.submit(0))  # the batch runs in its context
        other = asyncio.ensure_future(batcher.submit(2))
        await asyncio.sleep(0.05)
        leader.cancel()  # e.g. the client disconnected
        await asyncio.sleep(0.01)
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await other

    assert asyncio.run(scenario()) == 20
    assert run.batches == [[0, 2]]


def test_max_wait_and_target_make_a_batch_wait_for_company() -> None:
    run = Recorder()
    batcher = MicroBatcher(run, executor=EXECUTOR, max_wait=0.2, target=3)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(batcher.submit(0))
        await asyncio.sleep(0.05)  # less than max_wait: still waiting for company
        assert run.batches == []
        second = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 4)]  # target reached
        return await asyncio.gather(first, *second)

    assert asyncio.run(scenario()) == [0, 20, 40]
    assert run.batches == [[0, 2, 4]]
    lone = MicroBatcher(Recorder(), executor=EXECUTOR, max_wait=0.05, target=3)
    assert _gather(lone, [6]) == [60]  # alone after max_wait


def test_a_wrong_number_of_outcomes_is_an_error_for_every_item() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: items[:-1], executor=EXECUTOR)
    outcomes = _gather(batcher, [1, 2])
    assert all(isinstance(o, RuntimeError) for o in outcomes)
