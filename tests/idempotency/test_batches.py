"""The batch-first services store the answers of a whole group commit in its one transaction:
one INSERT for the batch, and a batch of retries acts no second time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identity import idempotency
from identity.models import IdempotentAnswer, Municipality, User
from proposals.models import Proposal, Signature
from proposals.services import SignatureResult
from proposals.services.signatures import SignRequest, signature_add_many
from tests.factories import ProposalFactory, ProposalTypeFactory, verified
from tests.idempotency.conftest import new_key
from tests.voting.conftest import YES, Scenario
from voting.models import Ballot
from voting.services import CastReceipt, ballot_prepare, ballot_store_many

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _claim(render: Any, key: str | None = None) -> idempotency.Claim:
    """A claim whose answer is the rendered value as JSON (the API encodes with ninja)."""
    return idempotency.Claim(
        key or new_key(),
        idempotency.fingerprint("POST", "/the/path", b""),
        encode=lambda value: idempotency.Answer(
            201, "application/json", json.dumps(value).encode()
        ),
        render=render,
    )


def _sign_render(result: SignatureResult) -> int:
    return result.count


def test_a_group_commit_of_signatures_stores_every_answer_with_one_insert(
    town: Municipality,
) -> None:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=3)
    proposal: Proposal = ProposalFactory(
        municipality=town, type=kind, author=verified(town), collecting=True
    )
    signers: list[User] = [verified(town) for _ in range(3)]
    claims = [_claim(_sign_render) for _ in signers]
    requests = [
        SignRequest(user, proposal.pk, claim) for user, claim in zip(signers, claims, strict=True)
    ]
    with CaptureQueriesContext(connection) as captured:
        outcomes = signature_add_many(requests=requests, municipality=town)
    inserts = [
        q for q in captured if q["sql"].startswith('INSERT INTO "identity_idempotentanswer"')
    ]
    assert len(inserts) == 1
    assert [o.count for o in outcomes if isinstance(o, SignatureResult)] == [1, 2, 3]
    assert [json.loads(c.answer.body) for c in claims if c.answer] == [1, 2, 3]
    assert IdempotentAnswer.objects.count() == 3
    # The whole batch again: every request gets its first answer, nothing is signed twice.
    retried = signature_add_many(requests=requests, municipality=town)
    assert all(isinstance(o, idempotency.Replay) for o in retried)
    assert [json.loads(o.answer.body) for o in retried if isinstance(o, idempotency.Replay)] == [
        1,
        2,
        3,
    ]
    assert Signature.objects.filter(proposal=proposal).count() == 3
    # One key twice in one batch: the second is told the first is in progress.
    late: User = verified(town)
    key = new_key()
    twice = signature_add_many(
        requests=[
            SignRequest(late, proposal.pk, _claim(_sign_render, key)),
            SignRequest(late, proposal.pk, _claim(_sign_render, key)),
        ],
        municipality=town,
    )
    assert isinstance(twice[0], SignatureResult)
    assert isinstance(twice[1], idempotency.IdempotencyInProgress)
    assert Signature.objects.filter(proposal=proposal).count() == 4


def test_a_group_commit_of_ballots_stores_every_answer(scenario: Scenario) -> None:
    s = scenario
    casts = []
    for voter in s.voters:
        prepared = ballot_prepare(
            actor=voter,
            municipality=s.town,
            election_id=s.election.pk,
            ballot_json=s.ballot(voter, YES),
        )
        casts.append((voter, prepared))

    def render(receipt: CastReceipt) -> str:
        return receipt.tracker

    claims: list[idempotency.Claim | None] = [_claim(render) for _ in casts]
    claims[1] = None  # one without a key beside them
    receipts = ballot_store_many(casts, idempotency=claims)
    assert all(isinstance(r, CastReceipt) for r in receipts)
    assert IdempotentAnswer.objects.count() == 2
    retried = ballot_store_many([casts[0], casts[2]], idempotency=[claims[0], claims[2]])
    assert [type(r) for r in retried] == [idempotency.Replay, idempotency.Replay]
    assert [json.loads(r.answer.body) for r in retried if isinstance(r, idempotency.Replay)] == [
        receipts[0].tracker,
        receipts[2].tracker,
    ]
    assert Ballot.objects.filter(election=s.election).count() == 3
