"""Verification through the cast path's batcher (voting/services/casting.py) gives
verify_ballot's verdicts, batched or alone: the same ballots accepted, the same ones refused, for
the same failing check (its detail may be worded after the equation the batched check reached
first)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from identity.batching import MicroBatcher
from voting.election import (
    ElectionContext,
    election_header,
    encrypt_ballot,
    generate_key,
    verify_ballot,
)
from voting.election.rng import TestStream
from voting.services.casting import _verify_many, _verifying

QUESTIONS = [
    {
        "id": "q1",
        "text": "?",
        "min_selections": 1,
        "max_selections": 1,
        "options": [{"id": "yes", "text": "yes"}, {"id": "no", "text": "no"}],
    }
]


def _context() -> ElectionContext:
    keys = [generate_key(TestStream(f"batch-key-{i}")) for i in range(2)]
    header = election_header(
        {
            "id": "00000000-0000-4000-8000-000000000000",
            "municipality": "town",
            "title": "t",
            "opens_at": "2026-01-01T00:00:00+09:00",
            "closes_at": "2026-02-01T00:00:00+09:00",
            "questions": QUESTIONS,
        },
        [
            {"id": f"t{i + 1}", **k.upload_json(TestStream(f"batch-pok-{i}"))}
            for i, k in enumerate(keys)
        ],
    )
    return ElectionContext.from_record(header)


def test_batched_verdicts_equal_single_ones() -> None:
    ctx = _context()
    ballots: list[Any] = [
        encrypt_ballot(ctx, f"{i:064x}", {"q1": ["yes" if i % 2 else "no"]}, TestStream(f"b{i}"))
        for i in range(12)
    ]
    broken = copy.deepcopy(ballots[3])
    broken["answers"][0]["choices"][0]["proof"][0]["c"] = "1"
    swapped = copy.deepcopy(ballots[5])
    swapped["alias"] = "f" * 64  # a proof bound to another voter
    ballots[3], ballots[5] = broken, swapped
    ballots.append({"alias": "x", "answers": "nonsense"})

    async def run(target: int) -> list[list[str]]:
        batcher = MicroBatcher(
            _verify_many,
            key=lambda item: item[0],
            target=target,
            max_wait=0.01,
            max_batch=target,
            executor=_verifying.executor,  # the cast path's verification thread
        )
        verdicts = await asyncio.gather(*(batcher.submit((ctx, b)) for b in ballots))
        assert batcher.items == len(ballots)
        assert batcher.batches == -(-len(ballots) // target)  # batches of `target`
        return list(verdicts)

    expected = [verify_ballot(ctx, b) for b in ballots]
    assert [bool(v) for v in expected] == [i in (3, 5, 12) for i in range(13)]

    def checks(verdicts: list[list[str]]) -> list[list[str]]:
        return [[failure.split(")")[0] for failure in verdict] for verdict in verdicts]

    for target in (1, 4, 32):  # alone, in small batches, all in one batch
        assert checks(asyncio.run(run(target))) == checks(expected)


def test_bucket_product_is_the_plain_product_for_every_window_width() -> None:
    """The bucket method picks 2-, 4- or 8-bit windows by the chunk's size; each must give
    prod x_i^d_i mod p exactly (the batch's verdicts rest on it)."""
    import random

    from voting.election.batch import _bucket_product, _window_bits
    from voting.election.group import P

    rng = random.Random(8)
    widths = set()
    for n in (0, 1, 3, 15, 16, 40, 449, 450, 600):
        elements = [rng.randrange(1, P) for _ in range(n)]
        digits = bytes(rng.randrange(256) for _ in range(n))
        expected = 1
        for x, d in zip(elements, digits, strict=True):
            expected = expected * pow(x, d, P) % P
        assert int(_bucket_product(elements, digits)) == expected
        widths.add(_window_bits(n))
    assert widths == {2, 4, 8}
