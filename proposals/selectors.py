"""Reads of the proposals app, each scoped to one municipality and to what the public may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.eligibility import TOKYO, person_keys_of
from identity.models import Municipality, User
from proposals import legal_calendar, permissions
from proposals.models import (
    EDITABLE,
    PART_LABELS,
    SIGNABLE,
    CollectionBlackout,
    Collector,
    CommitteeMember,
    CouncilAnswer,
    CouncilDocument,
    Follow,
    InvitationState,
    Objection,
    Proposal,
    ProposalRevision,
    ProposalType,
    Signature,
    Status,
    normalize_search,
)
from proposals.permissions import can_read_council_documents

PUBLIC_STATUSES = [s for s in Status.values if s != Status.DRAFT]
COUNCIL_STATUSES = (Status.SUBMITTED, Status.UNDER_REVIEW)
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


def my_signature(proposal: Proposal, user: User | None) -> Signature | None:
    """The person's standing signature, by whichever channel it came: online under their account,
    or entered by a clerk from the counter or a paper sheet (no account on the row). Found by the
    person key, as the signing services' one-per-person constraint finds it, so the page can
    never offer a signature the service would refuse as already given."""
    if user is None:
        return None
    keys = person_keys_of(user, proposal.municipality_id)
    return (
        Signature.objects.filter(proposal=proposal, withdrawn_at__isnull=True)
        .filter(Q(user=user) | Q(person_key__in=keys))
        .only("id", "channel", "signed_at", "user_id")
        .order_by("signed_at", "id")
        .first()
    )


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    label: str
    note: str = ""


def timeline(proposal: Proposal, now: datetime | None = None) -> list[TimelineItem]:
    """The public history, plus the end of the public inspection taken from the proposal itself
    (the date objections and finalising obey), so the page's inspection notice and its timeline
    can never show two different dates."""
    items = [
        TimelineItem(event.at, str(event.get_status_display()), event.note)
        for event in proposal.timeline.all()
    ]
    items += [
        TimelineItem(
            revision.edited_at,
            _("Text revised"),
            ", ".join(str(PART_LABELS.get(name, name)) for name in revision.changed),
        )
        for revision in revisions_of(proposal).only("edited_at", "changed")
    ]
    items += [
        TimelineItem(deadline.at, deadline.label)
        for deadline in legal_calendar.deadlines(proposal, now or timezone.now())
    ]
    if proposal.inspection_ends_at is not None:
        ended = proposal.inspection_ends_at <= (now or timezone.now())
        items.append(
            TimelineItem(
                proposal.inspection_ends_at,
                str(_("Public inspection ended") if ended else _("Public inspection ends")),
            )
        )
    return sorted(items, key=lambda item: item.at)


def daily_signatures(proposal: Proposal) -> list[tuple[date, int, int]]:
    """(day in Japan, signatures that day, running total) from the opening day to today or close."""
    if proposal.collection_opens_at is None:
        return []
    per_day = dict(
        Signature.objects.filter(proposal=proposal, withdrawn_at__isnull=True)
        # A paper row counts on the date the signer wrote on it: a direct demand's rows are typed
        # in during the office's check, after the period, and their entry day would put every
        # one of them past the deadline.
        .annotate(day=Coalesce("written_on", TruncDate("signed_at", tzinfo=TOKYO)))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    start = proposal.collection_opens_at.astimezone(TOKYO).date()
    end_at: datetime = min(timezone.now(), proposal.collection_closes_at or timezone.now())
    end = end_at.astimezone(TOKYO).date()
    # Every counted signature is on some day of the chart, even one dated outside the collection
    # period (the period moved after signing, as the demo does): dropping it drew a flat zero.
    if per_day:
        start, end = min(start, *per_day), max(end, *per_day)
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


# The proposal page's extras ---------------------------------------------------------------------


def may_edit(proposal: Proposal, user: User | None) -> bool:
    """Whether to offer the edit page: still being prepared, and an editor asks."""
    return (
        user is not None and proposal.status in EDITABLE and permissions.is_editor(user, proposal)
    )


def revisions_of(proposal: Proposal) -> QuerySet[ProposalRevision]:
    return ProposalRevision.objects.filter(proposal=proposal).order_by("number")


def committee_members(proposal: Proposal) -> list[CommitteeMember]:
    return list(proposal.committee.select_related("user").order_by("invited_at", "id"))


def committee_invitations_pending(user: User) -> list[CommitteeMember]:
    """A person's unanswered invitations to committees still being formed, in any municipality."""
    return list(
        CommitteeMember.objects.filter(
            user=user, state=InvitationState.PENDING, proposal__status=Status.COMMITTEE
        )
        .select_related("proposal__municipality", "proposal__author")
        .order_by("invited_at", "id")
    )


def council_answer(proposal: Proposal) -> CouncilAnswer | None:
    return CouncilAnswer.objects.filter(proposal=proposal).first()


def council_answers_public(municipality: Municipality) -> QuerySet[CouncilAnswer]:
    return CouncilAnswer.objects.filter(proposal__municipality=municipality).order_by("answered_at")


def council_documents(proposal: Proposal) -> list[CouncilDocument]:
    return list(proposal.documents.order_by("uploaded_at", "id"))


def council_documents_public(proposal: Proposal) -> bool:
    """A proposal's council documents are public once the council's answer is."""
    return proposal.status == Status.ANSWERED


def council_documents_visible(
    proposal: Proposal, user: User | AnonymousUser
) -> list[CouncilDocument]:
    if council_documents_public(proposal) or can_read_council_documents(
        user, proposal.municipality
    ):
        return council_documents(proposal)
    return []


def council_document_visible(
    municipality: Municipality, proposal_id: int, document_id: int, user: User | AnonymousUser
) -> CouncilDocument | None:
    """One document of a proposal of `municipality`, if `user` may read it (None otherwise, so
    the caller answers 404 and a document's existence is no more public than its content)."""
    document = (
        CouncilDocument.objects.select_related("proposal__municipality")
        .filter(pk=document_id, proposal_id=proposal_id, proposal__municipality=municipality)
        .first()
    )
    if document is None:
        return None
    if council_documents_public(document.proposal) or can_read_council_documents(
        user, municipality
    ):
        return document
    return None


def is_following(proposal: Proposal, user: User) -> bool:
    return Follow.objects.filter(proposal=proposal, user=user).exists()


# Staff reads (they never leave the municipality) ------------------------------------------------


def proposal_types(municipality: Municipality) -> QuerySet[ProposalType]:
    return ProposalType.objects.filter(municipality=municipality).order_by("name", "id")


def proposal_type(municipality: Municipality, type_id: int) -> ProposalType | None:
    return proposal_types(municipality).filter(pk=type_id).first()


def certification_queue(municipality: Municipality) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(municipality=municipality, status=Status.CERTIFICATION)
        .select_related("type")
        .annotate(open_objections=Count("objections", filter=Q(objections__answered_at=None)))
        .order_by("collection_closes_at", "id")
    )


def signatures_in_order(proposal: Proposal) -> QuerySet[Signature]:
    """All of a proposal's signatures, withdrawn and invalid ones too, as they came in."""
    return (
        Signature.objects.filter(proposal=proposal)
        .select_related("collector")
        .order_by("signed_at", "id")
    )


def signature_in(municipality: Municipality, proposal_id: int, signature_id: int) -> bool:
    return Signature.objects.filter(
        pk=signature_id, proposal_id=proposal_id, proposal__municipality=municipality
    ).exists()


def objection_in(municipality: Municipality, proposal_id: int, objection_id: int) -> bool:
    return Proposal.objects.filter(
        pk=proposal_id, municipality=municipality, objections__pk=objection_id
    ).exists()


def objections_of(proposal: Proposal) -> QuerySet[Objection]:
    return proposal.objections.select_related("filed_by").order_by("filed_at")


def council_queue(municipality: Municipality) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(municipality=municipality, status__in=COUNCIL_STATUSES)
        .select_related("type")
        .order_by("answer_due_on", "id")
    )


def council_overdue(municipality: Municipality, today: date) -> QuerySet[Proposal]:
    return council_queue(municipality).filter(answer_due_on__lt=today)


def council_proposal(municipality: Municipality, proposal_id: int) -> Proposal | None:
    """Any proposal that has left its author's hands (not a draft, not with the committee)."""
    return (
        Proposal.objects.select_related("type", "author")
        .filter(pk=proposal_id, municipality=municipality)
        .exclude(status__in=(Status.DRAFT, Status.COMMITTEE))
        .first()
    )


def offline_signable(municipality: Municipality) -> QuerySet[Proposal]:
    """Proposals collecting now whose type takes counter or paper signatures, and direct demands
    whose sheets are being entered during the election office's check."""
    return (
        Proposal.objects.filter(municipality=municipality)
        .filter(
            Q(status__in=SIGNABLE, collection_closes_at__gt=timezone.now())
            | Q(
                status=Status.CERTIFICATION,
                certified_count__isnull=True,
                type__direct_demand=True,
            )
        )
        .filter(Q(type__accepts_counter=True) | Q(type__accepts_paper=True))
        .select_related("type")
        .order_by("title", "id")
    )


# Direct demands ---------------------------------------------------------------------------------


def paper_collectors(municipality: Municipality) -> QuerySet[Collector]:
    """The collectors a clerk may name for a paper row: those of the demands taking sheets now
    (revoked ones too, for the rows they gathered before)."""
    return (
        Collector.objects.filter(proposal__in=offline_signable(municipality))
        .select_related("proposal")
        .order_by("proposal__title", "proposal_id", "number")
    )


def collectors_of(proposal: Proposal) -> QuerySet[Collector]:
    return Collector.objects.filter(proposal=proposal).order_by("number")


def direct_demands(municipality: Municipality) -> QuerySet[Proposal]:
    """The election office's list: every direct demand past the author's draft desk."""
    return (
        Proposal.objects.filter(municipality=municipality, type__direct_demand=True)
        .exclude(status=Status.WITHDRAWN)
        .select_related("type", "author")
        .annotate(
            collectors_active=Count("collectors", filter=Q(collectors__revoked_at__isnull=True))
        )
        .order_by("-created_at", "-id")
    )


def direct_demand(municipality: Municipality, proposal_id: int) -> Proposal | None:
    return (
        Proposal.objects.filter(municipality=municipality, type__direct_demand=True, pk=proposal_id)
        .select_related("type", "author")
        .first()
    )


def blackouts_of(municipality: Municipality) -> QuerySet[CollectionBlackout]:
    return CollectionBlackout.objects.filter(municipality=municipality).order_by(
        "-starts_on", "-id"
    )
