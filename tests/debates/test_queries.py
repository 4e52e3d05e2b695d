"""Query counts of the debate reads and of a vote: they must not grow with the data."""

from __future__ import annotations

from typing import Any

import pytest

from debates import selectors
from debates.models import Comment, Contribution, Debate, Statement
from debates.services import statement_create_from_contributions, vote_cast
from identity.models import Municipality, Role, User
from tests.factories import (
    DebateFactory,
    UserFactory,
    staff,
    verified,
)


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


def _fill(debate: Debate, n: int) -> None:
    author = UserFactory()
    for i in range(n):
        c = Contribution.objects.create(debate=debate, author=author, body=f"案 {i}")
        Comment.objects.create(contribution=c, author=author, body="賛成")


@pytest.mark.parametrize("n", [1, 6])
def test_debate_list_is_two_queries(
    n: int, town: Municipality, moderator: User, django_assert_num_queries: Any
) -> None:
    for _ in range(n):
        _fill(
            DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge")),
            2,
        )
    with django_assert_num_queries(2):  # debates with counts, phases
        rows = list(selectors.debates_public(town))
        for d in rows:
            selectors.phase_running(list(d.phases.all()), d.created_at)
    assert len(rows) == n


def test_debate_detail_is_three_queries(
    town: Municipality, moderator: User, django_assert_num_queries: Any
) -> None:
    debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )
    with django_assert_num_queries(3):  # debate (+ proposal, conclusion), phases, snapshot
        detail = selectors.debate_detail(town, debate.pk)
        assert detail.current is not None and detail.conclusion is None


@pytest.mark.parametrize("sort", selectors.SORTS)
def test_contribution_lists_are_one_query(
    sort: str, town: Municipality, moderator: User, django_assert_num_queries: Any
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    _fill(debate, 8)
    with django_assert_num_queries(1):
        rows = list(selectors.contributions_public(debate, sort=sort, seed="7"))
        _ = [(c.author.display_name, c.comment_count) for c in rows]
    assert len(rows) == 8
    if sort == "random":
        again = list(selectors.contributions_public(debate, sort=sort, seed="7"))
        other = list(selectors.contributions_public(debate, sort=sort, seed="8"))
        assert again == rows and other != rows and set(other) == set(rows)


def test_statement_reads_do_not_grow(
    town: Municipality, moderator: User, django_assert_num_queries: Any
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    for i in range(10):
        statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=f"文 {i}")
    user = UserFactory()
    with django_assert_num_queries(2):  # snapshot, statements
        assert len(selectors.statements_with_counts(debate)) == 10
    with django_assert_num_queries(3):  # votes of the user, statements, snapshot
        assert len(selectors.next_statements(debate, user, 5)) == 5
    with django_assert_num_queries(2):
        queue = selectors.moderation_queue(debate)
    assert len(queue) == 0


def test_vote_cast_query_count(
    town: Municipality, moderator: User, django_assert_num_queries: Any
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    first, second = (
        statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=t)
        for t in ("文 A", "文 B")
    )
    resident = verified(town)
    vote_cast(actor=resident, statement_id=first.pk, value=1)  # creates the participant
    # A new vote by a known participant: the service's transaction (a savepoint inside the test's
    # transaction: 2), statement, running phase, verification, participant, existing vote,
    # insert in a savepoint (3), dirty flag, counter, outbox message (recompute the opinion
    # groups): 13, whatever the data size (no audit entry: a participant's vote is not logged per
    # person).
    with django_assert_num_queries(13) as ctx:
        vote_cast(actor=resident, statement_id=second.pk, value=-1)
    fixed = len(ctx.captured_queries)
    with django_assert_num_queries(fixed - 2):  # a change: no insert savepoint
        vote_cast(actor=resident, statement_id=second.pk, value=0)
    assert Statement.objects.get(pk=second.pk).pass_count == 1
