"""Idempotency-Key on signing (the micro-batched endpoint): a retry after a committed signature
gets the first answer, never a second signature nor `already_signed`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from identity.models import AuditEntry, IdempotentAnswer, Municipality
from proposals.models import Proposal, Signature
from tests.concurrency import run_concurrently
from tests.factories import ProposalFactory, ProposalTypeFactory, session_token, verified
from tests.idempotency.conftest import call, in_thread, key_held, new_key, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _proposal(town: Municipality, name: str = "policy") -> Proposal:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=5, name=name)
    return ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)


def _close(proposal: Proposal) -> None:
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=now - timedelta(days=2), collection_closes_at=now - timedelta(minutes=1)
    )


def _path(proposal: Proposal) -> str:
    return f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"


def test_a_retry_gets_the_first_answer_and_signs_once(town: Municipality) -> None:
    proposal = _proposal(town)
    token, key = session_token(verified(town)), new_key()
    first = call("POST", _path(proposal), token, key)
    assert first.status == 201 and not first.replayed
    assert first.json == {"signature_count": 1, "threshold": 5, "crossed_threshold": False}
    # Someone else signs meanwhile: the replay still says what the first answer said.
    call("POST", _path(proposal), session_token(verified(town)))
    retry = call("POST", _path(proposal), token, key)
    assert (retry.status, retry.body) == (first.status, first.body) and retry.replayed
    assert Signature.objects.filter(proposal=proposal).count() == 2
    assert AuditEntry.objects.filter(action="signature.add").count() == 2
    proposal.refresh_from_db()
    assert proposal.signature_count == 2
    # Without the key the same person is told they signed already (as before).
    again = call("POST", _path(proposal), token)
    assert (again.status, again.json["code"]) == (409, "already_signed")


def test_a_retry_after_the_collection_closed_still_gets_the_first_answer(
    town: Municipality,
) -> None:
    proposal = _proposal(town)
    token, key = session_token(verified(town)), new_key()
    first = call("POST", _path(proposal), token, key)
    _close(proposal)
    retry = call("POST", _path(proposal), token, key)
    assert (retry.status, retry.body, retry.replayed) == (201, first.body, True)
    assert call("POST", _path(proposal), token, new_key()).status == 410


def test_the_same_key_for_another_request_is_refused_and_changes_nothing(
    town: Municipality,
) -> None:
    proposal, other = _proposal(town), _proposal(town, "other")
    token, key = session_token(verified(town)), new_key()
    assert call("POST", _path(proposal), token, key).status == 201
    refused = call("POST", _path(other), token, key)
    assert (refused.status, refused.json["code"]) == (422, "idempotency_key_mismatch")
    assert not Signature.objects.filter(proposal=other).exists()
    other.refresh_from_db()
    assert other.signature_count == 0
    assert IdempotentAnswer.objects.count() == 1


def test_two_people_with_the_same_key_are_independent(town: Municipality) -> None:
    proposal = _proposal(town)
    key = new_key()
    a = call("POST", _path(proposal), session_token(verified(town)), key)
    b = call("POST", _path(proposal), session_token(verified(town)), key)
    assert (a.status, b.status) == (201, 201) and not b.replayed
    assert (a.json["signature_count"], b.json["signature_count"]) == (1, 2)
    assert Signature.objects.filter(proposal=proposal).count() == 2


def test_a_refusal_is_not_stored_and_its_retry_is_judged_again(town: Municipality) -> None:
    proposal = _proposal(town)
    token, key = session_token(verified(town)), new_key()
    period = {"collection_opens_at": proposal.collection_opens_at}
    period["collection_closes_at"] = proposal.collection_closes_at
    _close(proposal)
    assert call("POST", _path(proposal), token, key).status == 410
    assert not IdempotentAnswer.objects.exists()
    Proposal.objects.filter(pk=proposal.pk).update(**period)
    assert call("POST", _path(proposal), token, key).status == 201


def test_concurrent_requests_with_one_key_sign_once(town: Municipality) -> None:
    """Real requests on their own threads and connections, racing on PostgreSQL."""
    proposal = _proposal(town)
    token, key = session_token(verified(town)), new_key()
    answers = run_concurrently(lambda _i: call("POST", _path(proposal), token, key), 6)
    assert all(not isinstance(a, BaseException) for a in answers), answers
    firsts = [a for a in answers if a.status == 201 and not a.replayed]
    assert len(firsts) == 1
    for answer in answers:
        assert not isinstance(answer, BaseException)
        if answer.status == 201:
            assert answer.body == firsts[0].body
        else:
            assert (answer.status, answer.json["code"]) == (409, "idempotency_in_progress")
            assert answer.headers["retry-after"] == "1"
    assert Signature.objects.filter(proposal=proposal).count() == 1
    proposal.refresh_from_db()
    assert proposal.signature_count == 1
    assert IdempotentAnswer.objects.count() == 1


def test_while_the_first_is_in_flight_the_retry_is_told_to_wait(town: Municipality) -> None:
    proposal = _proposal(town)
    token, key = session_token(verified(town)), new_key()
    with transaction.atomic():
        # Hold the proposal's row: the first request takes its key, then waits at the counter.
        Proposal.objects.select_for_update().get(pk=proposal.pk)
        thread, first = in_thread(lambda: call("POST", _path(proposal), token, key))
        wait_until(key_held, "the first request holds its key")
        other, retried = in_thread(lambda: call("POST", _path(proposal), token, key))
        other.join(timeout=30)
        (retry,) = retried
        assert (retry.status, retry.json["code"]) == (409, "idempotency_in_progress")
        assert retry.headers["retry-after"] == "1"
    thread.join(timeout=30)
    assert first[0].status == 201
    after = call("POST", _path(proposal), token, key)
    assert (after.status, after.body, after.replayed) == (201, first[0].body, True)
    assert Signature.objects.filter(proposal=proposal).count() == 1
