"""Idempotency-Key on casting (the micro-batched endpoint): a retry gets the first answer and
no second ballot; the stored answer links nobody to a ballot or tracker."""

from __future__ import annotations

import json
from typing import Any

import pytest

from identity import idempotency
from identity.models import IdempotentAnswer
from tests.concurrency import run_concurrently
from tests.factories import session_token
from tests.idempotency.conftest import Answer, call, new_key
from tests.voting.conftest import NO, YES, Scenario
from voting import services
from voting.models import Ballot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _cast(s: Scenario, token: str, key: str | None, ballot: dict[str, Any]) -> Answer:
    return call(
        "POST",
        f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots",
        token,
        key,
        ballot,
    )


def test_a_retry_gets_the_first_answer_and_casts_once(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[0]
    token, key, ballot = session_token(voter), new_key(), s.ballot(voter, YES)
    first = _cast(s, token, key, ballot)
    assert first.status == 201 and not first.replayed
    assert first.json["replaced_previous"] is False
    retry = _cast(s, token, key, ballot)
    assert (retry.status, retry.body, retry.replayed) == (201, first.body, True)
    assert Ballot.objects.filter(election=s.election).count() == 1
    # Without the key the same ballot is a duplicate (as before).
    duplicate = _cast(s, token, None, ballot)
    assert (duplicate.status, duplicate.json["code"]) == (409, "ballot_duplicate")
    # After the close the retry still gets its first answer, not `election_closed`.
    services.election_close(actor=s.office, municipality=s.town, election_id=s.election.pk)
    late = _cast(s, token, key, ballot)
    assert (late.status, late.body, late.replayed) == (201, first.body, True)
    assert Ballot.objects.filter(election=s.election).count() == 1


def test_the_same_key_for_another_ballot_is_refused_and_changes_nothing(
    scenario: Scenario,
) -> None:
    s = scenario
    voter = s.voters[0]
    token, key = session_token(voter), new_key()
    first = _cast(s, token, key, s.ballot(voter, YES))
    refused = _cast(s, token, key, s.ballot(voter, NO))
    assert (refused.status, refused.json["code"]) == (422, "idempotency_key_mismatch")
    (ballot,) = Ballot.objects.filter(election=s.election)
    assert ballot.tracker == first.json["tracker"] and not ballot.superseded


def test_two_voters_with_the_same_key_are_independent(scenario: Scenario) -> None:
    s = scenario
    key = new_key()
    a, b = s.voters[0], s.voters[1]
    first = _cast(s, session_token(a), key, s.ballot(a, YES))
    second = _cast(s, session_token(b), key, s.ballot(b, NO))
    assert (first.status, second.status, second.replayed) == (201, 201, False)
    assert first.json["tracker"] != second.json["tracker"]
    assert Ballot.objects.filter(election=s.election).count() == 2


def test_concurrent_casts_with_one_key_store_one_ballot(scenario: Scenario) -> None:
    """Real requests on their own threads and connections, racing on PostgreSQL."""
    s = scenario
    voter = s.voters[0]
    token, key, ballot = session_token(voter), new_key(), s.ballot(voter, YES)
    answers = run_concurrently(lambda _i: _cast(s, token, key, ballot), 4)
    assert all(isinstance(a, Answer) for a in answers), answers
    done = [a for a in answers if isinstance(a, Answer) and a.status == 201]
    assert len([a for a in done if not a.replayed]) == 1
    assert {a.body for a in done} == {done[0].body}
    for answer in answers:
        assert isinstance(answer, Answer)
        if answer.status != 201:
            assert (answer.status, answer.json["code"]) == (409, "idempotency_in_progress")
    assert Ballot.objects.filter(election=s.election).count() == 1
    assert IdempotentAnswer.objects.count() == 1


def test_the_stored_answer_links_nobody_to_the_ballot(scenario: Scenario) -> None:
    """Someone who reads the database (staff with access to every table, even with the server's
    secret) finds no account, no path and no tracker in the stored answer: it opens only with the
    client's key, which the server never keeps."""
    s = scenario
    voter = s.voters[0]
    token, key, ballot = session_token(voter), new_key(), s.ballot(voter, YES)
    path = f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots"
    first = _cast(s, token, key, ballot)
    tracker = first.json["tracker"]
    assert {f.name for f in IdempotentAnswer._meta.get_fields()} == {
        "digest",
        "sealed",
        "expires_at",
    }
    (row,) = IdempotentAnswer.objects.all()
    stored = bytes(row.digest) + bytes(row.sealed)
    for secret in (tracker.encode(), bytes.fromhex(tracker), path.encode(), str(voter.pk).encode()):
        assert secret not in stored
    assert (row.expires_at.minute, row.expires_at.second, row.expires_at.microsecond) == (0, 0, 0)

    def claim(with_key: str) -> idempotency.Claim:
        body = json.dumps(ballot).encode()  # as `call` sends it
        return idempotency.Claim(
            with_key,
            idempotency.fingerprint("POST", path, body),
            encode=lambda _r: None,
        )

    opened = claim(key).verdict(voter.pk, bytes(row.sealed))
    assert isinstance(opened, idempotency.Replay) and opened.answer.body == first.body
    guessed = claim(new_key()).verdict(voter.pk, bytes(row.sealed))
    assert isinstance(guessed, idempotency.IdempotencyKeyMismatch)
    assert claim(new_key()).digest(voter.pk) != bytes(row.digest)
