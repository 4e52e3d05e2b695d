"""Micro-batched ballot verification for the asynchronous cast endpoint.

Exact verification costs ≈ 9 ms per yes/no ballot on one core; `verify_ballots` gives the same
verdicts for a list of ballots at about a third of that. Under load, ballots arriving while a
batch is being verified wait for the next batch, so the batch grows with the load and the
cost per ballot falls; an idle server verifies a lone ballot after `max_wait` seconds. The
verdicts are verify_ballot's (a failing batch is re-checked ballot by ballot inside the
library): the same ballots accepted and refused, for the same failing check, so batching
changes the cost, never the answer (only the wording of a failure's detail may differ).

One batcher per event loop (i.e. per uvicorn worker process); verification runs in one extra
thread so the event loop keeps accepting requests. `MEBUKU_CAST_BATCH_TARGET` (default 32) and
`MEBUKU_CAST_BATCH_WAIT_MS` (default 100, counted from the oldest waiting ballot's arrival) tune it.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from voting.election import ElectionContext, verify_ballot, verify_ballots


def _release_gil_in_gmpy2() -> None:
    """gmpy2's context is per thread: in the verification thread only, let its arithmetic run
    without the GIL, so the event loop and the database threads of this worker keep going."""
    try:
        import gmpy2
    except ImportError:
        return
    gmpy2.get_context().allow_release_gil = True


# One verification thread per process, shared by every event loop's batcher.
_EXECUTOR = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="ballot-verify", initializer=_release_gil_in_gmpy2
)

# A ballot, the future of its verdict, and when it arrived (the event loop's clock).
_Item = tuple[Mapping[str, Any], "asyncio.Future[list[str]]", float]


def _verify_chunk(ctx: ElectionContext, ballots: list[Mapping[str, Any]]) -> list[list[str]]:
    if len(ballots) == 1:
        return [verify_ballot(ctx, ballots[0])]
    return verify_ballots(ctx, ballots)


class VerificationBatcher:
    """Collects ballots until `target` are waiting or the oldest has waited `max_wait` seconds,
    then verifies them (at most `max_batch`) in one call while the next batch collects."""

    def __init__(self, *, target: int = 32, max_batch: int = 200, max_wait: float = 0.05) -> None:
        self.target = target
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._pending: dict[ElectionContext, list[_Item]] = {}
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        self.batches = 0
        self.ballots = 0

    async def verify(self, ctx: ElectionContext, ballot: Mapping[str, Any]) -> list[str]:
        """Failures of checks 4-6 for this ballot (empty when it is valid)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[str]] = loop.create_future()
        self._pending.setdefault(ctx, []).append((ballot, future, loop.time()))
        self._schedule(loop)
        return await future

    def _waiting(self) -> int:
        return max((len(items) for items in self._pending.values()), default=0)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._busy or not self._pending:
            return
        # The wait counts from the arrival of the oldest ballot waiting, not from now: one that
        # arrived while the previous batch was being verified has waited already.
        oldest = min(items[0][2] for items in self._pending.values())
        delay = oldest + self.max_wait - loop.time()
        if self._waiting() >= self.target or delay <= 0:
            self._start_next()
        elif self._timer is None:
            self._timer = loop.call_later(delay, self._start_next)

    def _start_next(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._busy or not self._pending:
            return
        ctx = max(self._pending, key=lambda c: len(self._pending[c]))
        items = self._pending[ctx][: self.max_batch]
        rest = self._pending[ctx][self.max_batch :]
        if rest:
            self._pending[ctx] = rest
        else:
            del self._pending[ctx]
        self._busy = True
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(
            _EXECUTOR, _verify_chunk, ctx, [ballot for ballot, _, _ in items]
        )
        job.add_done_callback(lambda done: self._finish(items, done))

    def _finish(self, items: list[_Item], done: asyncio.Future[list[list[str]]]) -> None:
        self._busy = False
        self.batches += 1
        self.ballots += len(items)
        error = done.exception()
        for index, (_, future, _) in enumerate(items):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result()[index])
        self._schedule(asyncio.get_running_loop())


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, VerificationBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher() -> VerificationBatcher:
    """The batcher of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _batchers.get(loop)
    if found is None:
        found = _batchers[loop] = VerificationBatcher(
            target=int(os.environ.get("MEBUKU_CAST_BATCH_TARGET", "32")),
            max_wait=float(os.environ.get("MEBUKU_CAST_BATCH_WAIT_MS", "100")) / 1000,
        )
    return found
