"""Idempotency-Key on debate writes (synchronous endpoints): posting a statement and voting on
one. A retry gets the first answer and acts no second time; a late retry never undoes a later
vote."""

from __future__ import annotations

import pytest
from django.db import transaction

from debates.models import Debate, Statement, StatementStatus, Vote
from debates.services import statement_create_from_contributions
from identity.models import IdempotentAnswer, Municipality, Role, User
from tests.concurrency import run_concurrently
from tests.factories import DebateFactory, session_token, staff, verified
from tests.idempotency.conftest import Answer, call, in_thread, key_held, new_key, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE = "/api/v1/municipalities/maebashi/debates"


@pytest.fixture
def debate(town: Municipality) -> Debate:
    moderator = staff(town, Role.MODERATOR)
    made: Debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("converge", "conclude")
    )
    statement_create_from_contributions(actor=moderator, debate_id=made.pk, text="屋根を")
    return made


def _statement(debate: Debate) -> Statement:
    return Statement.objects.get(debate=debate, status=StatementStatus.PUBLISHED)


def _post(debate: Debate, token: str, key: str | None, text: str = "ベンチを") -> Answer:
    return call("POST", f"{BASE}/{debate.pk}/statements", token, key, {"text": text})


def _vote(debate: Debate, token: str, key: str | None, value: int) -> Answer:
    path = f"{BASE}/{debate.pk}/statements/{_statement(debate).pk}/vote"
    return call("POST", path, token, key, {"value": value})


def _counts(debate: Debate) -> tuple[int, int]:
    statement = _statement(debate)
    return statement.agree_count, statement.disagree_count


def test_posting_a_statement_twice_with_one_key_posts_once(
    town: Municipality, debate: Debate
) -> None:
    token, key = session_token(verified(town)), new_key()
    first = _post(debate, token, key)
    assert first.status == 201 and first.json["status"] == "pending" and not first.replayed
    retry = _post(debate, token, key)
    assert (retry.status, retry.body, retry.replayed) == (201, first.body, True)
    assert Statement.objects.filter(debate=debate, text="ベンチを").count() == 1
    # Without the key the same text is a duplicate (as before).
    again = _post(debate, token, None)
    assert (again.status, again.json["code"]) == (409, "duplicate_statement")


def test_a_late_retry_of_a_vote_never_undoes_a_later_one(
    town: Municipality, debate: Debate
) -> None:
    token = session_token(verified(town))
    agree_key = new_key()
    agreed = _vote(debate, token, agree_key, 1)
    assert agreed.json == {
        "statement_id": _statement(debate).pk,
        "value": 1,
        "previous": None,
        "changed": True,
    }
    assert _vote(debate, token, new_key(), -1).json["previous"] == 1
    retry = _vote(debate, token, agree_key, 1)
    assert (retry.status, retry.body, retry.replayed) == (200, agreed.body, True)
    assert Vote.objects.get().value == -1
    assert _counts(debate) == (0, 1)


def test_the_same_key_for_another_request_is_refused_and_changes_nothing(
    town: Municipality, debate: Debate
) -> None:
    token, key = session_token(verified(town)), new_key()
    assert _vote(debate, token, key, 1).status == 200
    refused = _vote(debate, token, key, -1)
    assert (refused.status, refused.json["code"]) == (422, "idempotency_key_mismatch")
    assert Vote.objects.get().value == 1 and _counts(debate) == (1, 0)
    posted = _post(debate, token, key)
    assert (posted.status, posted.json["code"]) == (422, "idempotency_key_mismatch")
    assert not Statement.objects.filter(text="ベンチを").exists()


def test_two_people_with_the_same_key_are_independent(town: Municipality, debate: Debate) -> None:
    key = new_key()
    a = _vote(debate, session_token(verified(town)), key, 1)
    b = _vote(debate, session_token(verified(town)), key, -1)
    assert (a.status, b.status, b.replayed) == (200, 200, False)
    assert _counts(debate) == (1, 1)
    first = _post(debate, session_token(verified(town)), key, "ベンチを")
    second = _post(debate, session_token(verified(town)), key, "木陰を")
    assert (first.status, second.status) == (201, 201)
    assert Statement.objects.filter(status=StatementStatus.PENDING).count() == 2


@pytest.mark.parametrize("what", ["post", "vote"])
def test_concurrent_requests_with_one_key_act_once(
    town: Municipality, debate: Debate, what: str
) -> None:
    """Real requests on their own threads and connections, racing on PostgreSQL."""
    token, key = session_token(verified(town)), new_key()

    def work(_index: int) -> Answer:
        return _post(debate, token, key) if what == "post" else _vote(debate, token, key, 1)

    answers = run_concurrently(work, 6)
    assert all(isinstance(a, Answer) for a in answers), answers
    done = [a for a in answers if isinstance(a, Answer) and a.status in (200, 201)]
    assert len([a for a in done if not a.replayed]) == 1
    assert {a.body for a in done} == {done[0].body}
    for answer in answers:
        assert isinstance(answer, Answer)
        if answer not in done:
            assert (answer.status, answer.json["code"]) == (409, "idempotency_in_progress")
    if what == "post":
        assert Statement.objects.filter(text="ベンチを").count() == 1
    else:
        assert Vote.objects.count() == 1 and _counts(debate) == (1, 0)
    assert IdempotentAnswer.objects.count() == 1


def test_while_the_first_vote_is_in_flight_the_retry_is_told_to_wait(
    town: Municipality, debate: Debate
) -> None:
    voter: User = verified(town)
    token, key = session_token(voter), new_key()
    with transaction.atomic():
        # Hold the statement's row: the first vote takes its key, then waits at the counters.
        Statement.objects.select_for_update().get(pk=_statement(debate).pk)
        first_thread, first = in_thread(lambda: _vote(debate, token, key, 1))
        wait_until(key_held, "the first vote holds its key")
        retry_thread, retried = in_thread(lambda: _vote(debate, token, key, 1))
        retry_thread.join(timeout=30)
        (retry,) = retried
        assert (retry.status, retry.json["code"]) == (409, "idempotency_in_progress")
        assert retry.headers["retry-after"] == "1"
    first_thread.join(timeout=30)
    assert first[0].status == 200 and first[0].json["changed"] is True
    after = _vote(debate, token, key, 1)
    assert (after.status, after.body, after.replayed) == (200, first[0].body, True)
    assert _counts(debate) == (1, 0)
