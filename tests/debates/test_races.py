"""Debates under real concurrency against PostgreSQL: votes, moderation, phase announcements,
conclusions."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from debates.models import Debate, Participant, Phase, Statement, StatementStatus, Vote
from debates.services import (
    conclusion_to_proposal_draft,
    phases_announce_due,
    statement_create_from_contributions,
    statement_moderate,
    statement_submit,
    summary_publish,
    vote_cast,
)
from identity.errors import Conflict
from identity.models import AuditEntry, Municipality, Role, User
from proposals.models import Proposal
from tests.concurrency import run_concurrently
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    ProposalTypeFactory,
    staff,
    verified,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _setup(*kinds: str) -> tuple[Municipality, User, Debate]:
    town = MunicipalityFactory()
    moderator = staff(town, Role.MODERATOR)
    return town, moderator, DebateFactory(municipality=town, created_by=moderator, phases=kinds)


def _counters(statement: Statement) -> tuple[int, int, int]:
    statement.refresh_from_db()
    return statement.agree_count, statement.disagree_count, statement.pass_count


def _actual(statement: Statement) -> tuple[int, int, int]:
    counts = Vote.objects.filter(statement=statement).aggregate(
        a=Count("pk", filter=Q(value=1)),
        d=Count("pk", filter=Q(value=-1)),
        p=Count("pk", filter=Q(value=0)),
    )
    return counts["a"], counts["d"], counts["p"]


def test_one_participant_voting_from_many_requests_leaves_one_vote() -> None:
    town, moderator, debate = _setup("converge", "conclude")
    statement = statement_create_from_contributions(
        actor=moderator, debate_id=debate.pk, text="駅前に屋根を"
    )
    voter = verified(town)
    values = [1, -1, 0, 1, -1, 0, 1, -1]
    outcomes = run_concurrently(
        lambda i: vote_cast(actor=voter, statement_id=statement.pk, value=values[i]), len(values)
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert Participant.objects.filter(debate=debate).count() == 1
    vote = Vote.objects.get(statement=statement)
    counters = _counters(statement)
    assert sum(counters) == 1 and counters == _actual(statement)
    assert vote.value == {0: 1, 1: -1, 2: 0}[counters.index(1)]


def test_many_people_voting_at_once_are_counted_exactly() -> None:
    town, moderator, debate = _setup("converge", "conclude")
    statement = statement_create_from_contributions(
        actor=moderator, debate_id=debate.pk, text="駅前に屋根を"
    )
    voters = [verified(town) for _ in range(12)]
    outcomes = run_concurrently(
        lambda i: vote_cast(actor=voters[i], statement_id=statement.pk, value=(i % 3) - 1),
        len(voters),
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert _counters(statement) == (4, 4, 4) == _actual(statement)


def test_a_proposed_statement_is_moderated_once() -> None:
    town, moderator, debate = _setup("converge", "conclude")
    other = staff(town, Role.MODERATOR)
    proposed = statement_submit(actor=verified(town), debate_id=debate.pk, text="駐輪場を増やす")
    actors = [moderator, other] * 3
    outcomes = run_concurrently(
        lambda i: statement_moderate(
            actor=actors[i], statement_id=proposed.pk, publish=i % 2 == 0, reason="対象外"
        ),
        len(actors),
    )
    winners = [o for o in outcomes if isinstance(o, Statement)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o not in winners)
    proposed.refresh_from_db()
    assert proposed.status == winners[0].status != StatementStatus.PENDING


def test_a_started_phase_is_announced_once_by_concurrent_beats() -> None:
    _town, _moderator, debate = _setup("diverge", "converge")
    Phase.objects.filter(debate=debate).update(announced_at=None)
    outcomes = run_concurrently(lambda _: phases_announce_due(), 4)
    assert sorted(outcomes) == [0, 0, 0, 1], outcomes  # type: ignore[type-var]
    assert not Phase.objects.filter(debate=debate, starts_at__lte=timezone.now(), announced_at=None)


def test_a_conclusion_becomes_one_proposal_draft() -> None:
    town, moderator, debate = _setup("conclude")
    kind = ProposalTypeFactory(municipality=town)
    summary_publish(
        actor=moderator, debate_id=debate.pk, summary="屋根の要望が多数", outcome="屋根を提案する"
    )
    resident = verified(town)
    outcomes = run_concurrently(
        lambda _: conclusion_to_proposal_draft(
            actor=resident, debate_id=debate.pk, type_id=kind.pk
        ),
        4,
    )
    made = [o for o in outcomes if isinstance(o, Proposal)]
    assert len(made) == 1, outcomes
    assert all(
        isinstance(o, Conflict) and o.code == "already_linked" for o in outcomes if o not in made
    )
    assert Proposal.objects.filter(municipality=town).count() == 1
    assert debate.conclusion.proposal_id == made[0].pk
    assert AuditEntry.objects.filter(action="debate.conclusion_to_proposal").count() == 1
