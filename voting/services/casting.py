"""Casting for async callers (the API's cast endpoint): the three steps of a cast
(voting/services/ballots.py), each micro-batched with the project's one batcher
(identity/batching.py), so ballots in flight together share each step:

  1. prepare: the session tokens, the roll entries and the ballots' aliases checked together
     in one trip to the database thread (`ballot_prepare_many`);
  2. verify: the proofs of many voters' ballots of one election checked in one call
     (`verify_ballots`, about a third of the cost of one by one), on a thread of its own that
     holds no database connection; a batch waits up to MEBUKU_CAST_BATCH_WAIT_MS (default
     100 ms, from the oldest ballot's arrival) for MEBUKU_CAST_BATCH_TARGET (default 32)
     ballots, since each added ballot makes the batch cheaper per ballot;
  3. store: the verified ballots stored in one group commit (`ballot_store_many`).

Each ballot gets the answer `ballot_cast` would give it alone; one refused never fails others.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from identity.batching import MicroBatcher
from identity.errors import DomainError, NotFound, NotSignedIn
from identity.idempotency import Claim, answers_lookup
from identity.models import User
from identity.selectors import municipality_cached
from identity.session_tokens import SessionToken, resolve_actors
from voting.election import ElectionContext, verify_ballot, verify_ballots
from voting.services.ballots import (
    BallotRejected,
    CastReceipt,
    PreparedBallot,
    PrepareRequest,
    ballot_prepare_many,
    ballot_store_many,
)


@dataclass(frozen=True)
class CastRequest:
    actor: User | SessionToken
    municipality_slug: str
    election_id: int
    ballot_json: Mapping[str, Any]
    idempotency: Claim | None = None


@dataclass(frozen=True)
class _Ready:
    actor: User
    prepared: PreparedBallot
    claim: Claim | None = None


def _prepare_many(requests: list[CastRequest]) -> list[_Ready | Exception]:
    users = resolve_actors([r.actor for r in requests])
    ready: list[_Ready | Exception | None] = [None] * len(requests)
    # A retry is answered from its first answer before any check (the election may have closed
    # since); the store step takes the claim again, inside the cast's transaction.
    keyed = [
        (index, user.pk, request.idempotency)
        for index, (request, user) in enumerate(zip(requests, users, strict=True))
        if user is not None and request.idempotency is not None
    ]
    found = answers_lookup([(scope, claim) for _index, scope, claim in keyed])
    for (index, _scope, _claim), verdict in zip(keyed, found, strict=True):
        ready[index] = verdict
    checks: list[tuple[int, PrepareRequest]] = []
    for index, (request, user) in enumerate(zip(requests, users, strict=True)):
        municipality = municipality_cached("slug", request.municipality_slug)
        if ready[index] is not None:
            continue
        if user is None:
            ready[index] = NotSignedIn(_("Please sign in first."))
        elif municipality is None:
            ready[index] = NotFound(_("Not found."))
        else:
            checks.append(
                (
                    index,
                    PrepareRequest(user, municipality, request.election_id, request.ballot_json),
                )
            )
    prepared = ballot_prepare_many([check for _, check in checks])
    for (index, check), outcome in zip(checks, prepared, strict=True):
        ready[index] = (
            outcome
            if isinstance(outcome, DomainError)
            else _Ready(check.actor, outcome, requests[index].idempotency)
        )
    return [outcome for outcome in ready if outcome is not None]


def _release_gil_in_gmpy2() -> None:
    """gmpy2's context is per thread: in the verification thread only, let its arithmetic run
    without the GIL, so the event loop and the database threads of this worker keep going."""
    try:
        import gmpy2
    except ImportError:
        return
    gmpy2.get_context().allow_release_gil = True


_Proofs = tuple[ElectionContext, Mapping[str, Any]]


def _verify_many(items: list[_Proofs]) -> list[list[str]]:
    """Failures per ballot (empty: its proofs hold); all items share one context (the key)."""
    ctx = items[0][0]
    if len(items) == 1:  # one ballot is checked faster without the batch's random combination
        return [verify_ballot(ctx, items[0][1])]
    return verify_ballots(ctx, [content for _, content in items])


def _store_many(items: list[_Ready]) -> Sequence[CastReceipt | DomainError | Exception]:
    return ballot_store_many(
        [(item.actor, item.prepared) for item in items],
        idempotency=[item.claim for item in items],
    )


_preparing: MicroBatcher[CastRequest, _Ready] = MicroBatcher(_prepare_many)
_verifying: MicroBatcher[_Proofs, list[str]] = MicroBatcher(
    _verify_many,
    key=lambda item: item[0],
    executor=ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="ballot-verify", initializer=_release_gil_in_gmpy2
    ),
    target=int(os.environ.get("MEBUKU_CAST_BATCH_TARGET", "32")),
    max_wait=float(os.environ.get("MEBUKU_CAST_BATCH_WAIT_MS", "100")) / 1000,
)
# A verification batch (up to 200) is stored in chunks of at most 100 per transaction.
_storing: MicroBatcher[_Ready, CastReceipt] = MicroBatcher(_store_many, max_batch=100)


async def ballot_cast_batched(
    *,
    actor: User | SessionToken,
    municipality_slug: str,
    election_id: int,
    ballot_json: Any,
    idempotency: Claim | None = None,
) -> CastReceipt:
    """`ballot_cast` for async callers, each step shared with the ballots in flight with it.
    With an `Idempotency-Key` claim, the answer is stored in the ballot's transaction."""
    ready = await _preparing.submit(
        CastRequest(actor, municipality_slug, election_id, ballot_json, idempotency)
    )
    failures = await _verifying.submit((ready.prepared.ctx, ready.prepared.content))
    if failures:
        raise BallotRejected(failures)
    return await _storing.submit(ready)
