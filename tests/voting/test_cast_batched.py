"""Casting through the one request path: the async django-ninja endpoint awaits the shared
micro-batcher at each step (checks, proofs, store; voting/services/casting.py); each ballot gets
its own answer, and one refused never fails the others of its batch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from identity.session_tokens import SessionToken
from tests.asgi import Reply, api_headers, asgi_call
from tests.factories import session_token
from tests.voting.conftest import NO, YES, Scenario
from voting import services
from voting.models import Ballot
from voting.services import casting

pytestmark = pytest.mark.django_db(transaction=True)


def _cast(s: Scenario, token: str | None, body: Any, language: str = "en") -> Reply:
    path = f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return asyncio.run(asgi_call(path, body=raw, headers=api_headers(token, language)))


def test_the_endpoint_answers_each_case(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[0]
    token = session_token(voter)
    first = _cast(s, token, s.ballot(voter, YES))
    assert first.status == 201, first.body
    assert set(first.body) == {"tracker", "cast_at", "replaced_previous"}
    assert first.body["replaced_previous"] is False
    again = _cast(s, token, s.ballot(voter, NO))
    assert again.status == 201 and again.body["replaced_previous"] is True
    stored = Ballot.objects.get(tracker=again.body["tracker"])
    assert not stored.superseded and stored.roll_entry.user == voter
    assert again.headers["content-language"] == "en"
    assert "Accept-Language" in again.headers["vary"]

    unknown = _cast(s, "no-such-token", s.ballot(voter, YES))
    assert (unknown.status, unknown.body) == (
        401,
        {"code": "not_signed_in", "message": "Please sign in first."},
    )
    assert _cast(s, None, s.ballot(voter, YES)).status == 401
    teen = _cast(s, session_token(s.others["teen"]), s.ballot(voter, YES))
    assert (teen.status, teen.body["code"]) == (403, "under_age")
    bad = s.ballot(s.voters[1], YES)
    bad["answers"][0]["choices"][1]["proof"][1]["r"] = "5"
    rejected = _cast(s, session_token(s.voters[1]), bad)
    assert (rejected.status, rejected.body["code"]) == (422, "ballot_invalid")
    assert any("check 5" in f for f in rejected.body["failures"])
    invalid = _cast(s, session_token(s.voters[1]), {"alias": 7, "answers": "x"})
    assert (invalid.status, invalid.body["code"]) == (422, "invalid")
    assert _cast(s, session_token(s.voters[1]), b"{not json").status in (400, 422)
    stolen = _cast(s, session_token(s.voters[1]), s.ballot(voter, YES))
    assert (stolen.status, stolen.body["code"]) == (422, "alias_mismatch")
    assert Ballot.objects.count() == 2

    s.close_and_decrypt()
    closed = _cast(s, session_token(s.voters[2]), s.ballot(s.voters[2], YES))
    assert (closed.status, closed.body["code"]) == (409, "election_closed")


def test_one_bad_ballot_never_fails_the_others_of_its_batch(scenario: Scenario) -> None:
    """Casts submitted in one turn of the event loop share each step's batch: a stale token, a
    voter not on the roll, a broken proof and a duplicate get their own refusals; the rest
    are stored, and a voter's second ballot in the batch supersedes the first."""
    s = scenario
    v0, v1, v2 = s.voters
    ended = session_token(v2)
    v2.set_password("a brand new passphrase 2026")
    v2.save()
    broken = s.ballot(v1, YES)
    broken["answers"][0]["choices"][1]["proof"][1]["r"] = "5"
    twice = s.ballot(v1, NO)
    casts: list[tuple[Any, dict[str, Any]]] = [
        (SessionToken(session_token(v0)), s.ballot(v0, YES)),
        (SessionToken(ended), s.ballot(v2, YES)),  # a password change ended this session
        (SessionToken(session_token(s.others["teen"])), s.ballot(v0, YES)),  # not on the roll
        (SessionToken(session_token(v1)), broken),  # a proof that does not hold
        (SessionToken(session_token(v1)), twice),
        (v1, twice),  # the same ballot again (a browser session beside the tokens)
        (v0, s.ballot(v0, NO)),  # re-vote in the same batch
    ]
    batches = (casting._preparing.batches, casting._verifying.batches, casting._storing.batches)

    async def together() -> list[Any]:
        return await asyncio.gather(
            *(
                services.ballot_cast_batched(
                    actor=actor,
                    municipality_slug=s.town.slug,
                    election_id=s.election.pk,
                    ballot_json=ballot,
                )
                for actor, ballot in casts
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(together())
    answers = [
        ("ok", o.replaced_previous) if isinstance(o, services.CastReceipt) else o.code
        for o in outcomes
    ]
    assert answers == [
        ("ok", False),
        "not_signed_in",
        "under_age",
        "ballot_invalid",
        ("ok", False),
        "ballot_duplicate",
        ("ok", True),
    ]
    # One batch for each step (the refused ones leave at the step that refuses them).
    assert (
        casting._preparing.batches,
        casting._verifying.batches,
        casting._storing.batches,
    ) == (batches[0] + 1, batches[1] + 1, batches[2] + 1)
    counted = Ballot.objects.filter(election=s.election, superseded=False)
    assert sorted(b.roll_entry.user_id for b in counted) == sorted([v0.pk, v1.pk])
    assert Ballot.objects.filter(election=s.election).count() == 3
