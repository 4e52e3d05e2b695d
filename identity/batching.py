"""One micro-batcher for the hot endpoints (signing, casting): requests in flight together are
handed to a batch-first service as one list, and each awaits its own answer.

Batches form by load, not by a timer (unless `max_wait` asks for one): the first request to
arrive when a slot is free starts a batch at the next turn of the event loop, together with
whatever arrived in that turn; requests arriving while `in_flight` batches run wait and go
together in the next one. So a quiet server answers a lone request at once, and a busy one
shares each trip to the database (one thread hop, one transaction, one statement per kind of
row) among many requests.

`run` takes the list of items and returns one outcome per item: a value, or an exception that
only that item's request raises. One failing item never fails the others; an exception raised by
`run` itself (e.g. the database is down) fails the items of that batch, none of which was
committed by it.

By default `run` runs as Django runs sync code for an async view (`sync_to_async`,
thread-sensitive) in the context of the batch's first request, so it sees what that request would
see (in tests, the test's transaction) and its database connection is handled by that request's
cycle. Work that holds no database connection (proof verification) can name its own `executor`.
A request that goes away (client disconnect) leaves its batch running for the others.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


@dataclass
class _Waiter(Generic[Item, Outcome]):
    item: Item
    future: asyncio.Future[Outcome]
    context: contextvars.Context
    arrived: float


@dataclass
class _LoopState(Generic[Item, Outcome]):
    # Waiting items per key (only items of one key go in a batch).
    pending: dict[Hashable, list[_Waiter[Item, Outcome]]] = field(default_factory=dict)
    running: int = 0
    scheduled: bool = False
    timer: asyncio.TimerHandle | None = None


class MicroBatcher(Generic[Item, Outcome]):
    def __init__(
        self,
        run: Callable[[list[Item]], Sequence[Outcome | BaseException]],
        *,
        max_batch: int = 200,
        in_flight: int = 1,
        max_wait: float = 0.0,
        target: int | None = None,
        key: Callable[[Item], Hashable] | None = None,
        executor: Executor | None = None,
    ) -> None:
        """`max_wait` (seconds, counted from the oldest waiting item's arrival) and `target`
        make a batch wait for company: it starts when `target` items wait or the oldest has
        waited `max_wait`. `key` keeps items of different keys in different batches."""
        self.run = run
        self.max_batch = max_batch
        self.in_flight = in_flight
        self.max_wait = max_wait
        self.target = target or max_batch
        self.key = key
        self.executor = executor
        self.batches = 0
        self.items = 0
        # Futures belong to an event loop: one state per loop (a uvicorn worker has one; tests
        # make a new loop per call).
        self._states: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, _LoopState[Item, Outcome]
        ] = weakref.WeakKeyDictionary()

    async def submit(self, item: Item) -> Outcome:
        """The outcome of `item` once its batch has run (raises the item's exception)."""
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        waiter: _Waiter[Item, Outcome] = _Waiter(
            item, loop.create_future(), contextvars.copy_context(), loop.time()
        )
        group = self.key(item) if self.key is not None else None
        state.pending.setdefault(group, []).append(waiter)
        self._schedule(loop, state)
        # Shielded: a caller that goes away must not cancel the future its batch will set.
        return await asyncio.shield(waiter.future)

    def _schedule(self, loop: asyncio.AbstractEventLoop, state: _LoopState[Item, Outcome]) -> None:
        if state.scheduled or state.running >= self.in_flight or not state.pending:
            return
        if self.max_wait > 0:
            oldest = min(waiters[0].arrived for waiters in state.pending.values())
            fullest = max(len(waiters) for waiters in state.pending.values())
            delay = oldest + self.max_wait - loop.time()
            if fullest < self.target and delay > 0:
                if state.timer is None:
                    state.timer = loop.call_later(delay, self._timer_fired, loop, state)
                return
        state.scheduled = True
        loop.call_soon(self._start, loop, state)  # the next turn: let this turn's arrivals join

    def _timer_fired(
        self, loop: asyncio.AbstractEventLoop, state: _LoopState[Item, Outcome]
    ) -> None:
        state.timer = None
        self._schedule(loop, state)

    def _start(self, loop: asyncio.AbstractEventLoop, state: _LoopState[Item, Outcome]) -> None:
        state.scheduled = False
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        while state.pending and state.running < self.in_flight:
            group = max(state.pending, key=lambda g: len(state.pending[g]))
            waiters = state.pending[group][: self.max_batch]
            rest = state.pending[group][self.max_batch :]
            if rest:
                state.pending[group] = rest
            else:
                del state.pending[group]
            state.running += 1
            task = loop.create_task(
                self._run_batch([w.item for w in waiters]), context=waiters[0].context
            )
            task.add_done_callback(lambda done, w=waiters: self._finish(loop, state, w, done))  # type: ignore[misc]

    async def _run_batch(self, items: list[Item]) -> Sequence[Outcome | BaseException]:
        if self.executor is not None:
            return await asyncio.get_running_loop().run_in_executor(self.executor, self.run, items)
        return await sync_to_async(self._run_with_database, thread_sensitive=True)(items)

    def _run_with_database(self, items: list[Item]) -> Sequence[Outcome | BaseException]:
        try:
            return self.run(items)
        finally:
            # Give the connection back as Django does between requests (to the pool, in
            # production): the batch's first request may wait on more steps after this one.
            # Inside a transaction (a test's) there is nothing to give back.
            if not connection.in_atomic_block:
                close_old_connections()

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopState[Item, Outcome],
        waiters: list[_Waiter[Item, Outcome]],
        done: asyncio.Task[Sequence[Outcome | BaseException]],
    ) -> None:
        state.running -= 1
        self.batches += 1
        self.items += len(waiters)
        error = asyncio.CancelledError() if done.cancelled() else done.exception()
        outcomes: Sequence[Outcome | BaseException] = () if error else done.result()
        if error is None and len(outcomes) != len(waiters):
            error = RuntimeError(f"batch gave {len(outcomes)} outcomes for {len(waiters)} items")
        for index, waiter in enumerate(waiters):
            if waiter.future.done():
                continue
            outcome = error if error is not None else outcomes[index]
            if isinstance(outcome, BaseException):
                waiter.future.set_exception(outcome)
            else:
                waiter.future.set_result(outcome)
        self._schedule(loop, state)
