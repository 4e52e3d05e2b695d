"""Debate test data shared by the modules here."""

from __future__ import annotations

from debates.models import Debate, Participant, Statement, Vote
from debates.services import statement_create_from_contributions
from identity.models import User
from tests.factories import UserFactory


def statement(
    debate: Debate, moderator: User, text: str = "駅前に屋根付きの広場を作るべきだ"
) -> Statement:
    return statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=text)


def two_camps(debate: Debate, moderator: User, per_camp: int = 10) -> list[Statement]:
    """Camp A agrees with statements 0–4 and disagrees with 5–9, camp B the opposite; everyone
    agrees with statement 10. Written directly (the vote service is tested above)."""
    statements = [statement(debate, moderator, f"主張 {i}") for i in range(11)]
    votes = []
    for person in range(2 * per_camp):
        camp = 1 if person < per_camp else -1
        participant = Participant.objects.create(
            debate=debate, user=UserFactory(), person_key=f"person-{person}"
        )
        for i, s in enumerate(statements):
            value = 1 if i == 10 else (camp if i < 5 else -camp)
            votes.append(Vote(statement=s, participant=participant, value=value))
    Vote.objects.bulk_create(votes)
    for s in statements:
        Statement.objects.filter(pk=s.pk).update(
            agree_count=Vote.objects.filter(statement=s, value=1).count(),
            disagree_count=Vote.objects.filter(statement=s, value=-1).count(),
        )
    return statements
