"""A person's data in voting/ (identity.privacy.PrivacyProvider; listed in
settings.MEBUKU_PRIVACY_PROVIDERS).

The export says on which rolls the person is and whether a counted ballot of theirs exists (what
"My elections" shows them), never the tracker, the alias or the ballot: an export file is a thing
that can be shown to someone else, and the secrecy rule forbids anything that links a person to
a ballot."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from identity.models import User
from identity.privacy import Refusal, Section
from voting.models import Ballot, BallotKind, RollEntry, Status, Trustee


def export(user: User, person_keys: set[str]) -> dict[str, Section]:
    counted = Ballot.objects.filter(
        roll_entry=OuterRef("pk"), kind=BallotKind.CAST, superseded=False
    )
    entries = (
        RollEntry.objects.filter(user=user)
        .select_related("election")
        .annotate(voted=Exists(counted))
        .order_by("election_id")
    )
    return {
        "elections": [
            {"election": e.election.title, "on_roll": True, "voted": e.voted} for e in entries
        ],
        "trusteeships": [
            {"election": t.election.title, "tid": t.tid, "appointed_at": t.appointed_at}
            for t in Trustee.objects.filter(user=user).select_related("election").order_by("pk")
        ],
    }


def refusals(user: User) -> list[Refusal]:
    """A trustee's key share is needed until the result is published."""
    pending = Trustee.objects.filter(user=user).filter(~Q(election__status=Status.PUBLISHED))
    if pending.exists():
        return [
            Refusal(
                "trustee_pending",
                _(
                    "You are a trustee of an election whose result is not published yet. You can "
                    "delete your account once it is."
                ),
            )
        ]
    return []


def erase(user: User, person_keys: set[str], now: datetime) -> dict[str, int]:
    """Roll entries and ballots stay: the board shows them under their alias, and the account
    they point to no longer names anyone."""
    return {}
