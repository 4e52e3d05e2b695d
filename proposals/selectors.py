"""Reads of the proposals app, each scoped to one municipality and to what the public may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from identity.eligibility import TOKYO
from identity.models import Municipality, User
from proposals.models import Proposal, Signature, Status, normalize_search

PUBLIC_STATUSES = [s for s in Status.values if s != Status.DRAFT]
SORTS = {
    "new": ("-created_at", "-id"),
    "signatures": ("-signature_count", "-id"),
    "closing": ("collection_closes_at", "id"),
}


@dataclass(frozen=True)
class ProposalFilter:
    query: str = ""
    status: str = ""
    type_id: int | None = None
    category: str = ""
    sort: str = "new"


def proposals_public(municipality: Municipality, filters: ProposalFilter) -> QuerySet[Proposal]:
    proposals = Proposal.objects.filter(
        municipality=municipality, status__in=PUBLIC_STATUSES
    ).select_related("type")
    for term in normalize_search(filters.query).split():
        proposals = proposals.filter(search_text__contains=term)
    if filters.status:
        proposals = proposals.filter(status=filters.status)
    if filters.type_id:
        proposals = proposals.filter(type_id=filters.type_id)
    if filters.category:
        proposals = proposals.filter(category=filters.category)
    return proposals.order_by(*SORTS.get(filters.sort, SORTS["new"]))


def proposal_visible(
    municipality: Municipality, proposal_id: int, user: User | None
) -> Proposal | None:
    """Public unless a draft; a draft is visible to its author only."""
    proposal = (
        Proposal.objects.select_related("type", "author")
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        return None
    if proposal.status == Status.DRAFT and (user is None or proposal.author_id != user.pk):
        return None
    return proposal


def has_signed(proposal: Proposal, user: User | None) -> bool:
    if user is None:
        return False
    return Signature.objects.filter(
        proposal=proposal, user=user, withdrawn_at__isnull=True
    ).exists()


def daily_signatures(proposal: Proposal) -> list[tuple[date, int, int]]:
    """(day in Japan, signatures that day, running total) from the opening day to today or close."""
    if proposal.collection_opens_at is None:
        return []
    per_day = dict(
        Signature.objects.filter(proposal=proposal, withdrawn_at__isnull=True)
        .annotate(day=TruncDate("signed_at", tzinfo=TOKYO))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    start = proposal.collection_opens_at.astimezone(TOKYO).date()
    end_at: datetime = min(timezone.now(), proposal.collection_closes_at or timezone.now())
    end = end_at.astimezone(TOKYO).date()
    rows, total, day = [], 0, start
    while day <= end:
        total += per_day.get(day, 0)
        rows.append((day, per_day.get(day, 0), total))
        day += timedelta(days=1)
    return rows


def categories(municipality: Municipality) -> list[str]:
    return list(
        Proposal.objects.filter(municipality=municipality, status__in=PUBLIC_STATUSES)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )
