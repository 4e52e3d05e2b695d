"""Filing a proposal and opening signature collection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.eligibility import TOKYO
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.idempotency import stores_answer
from identity.models import Municipality, User
from proposals import legal_calendar, permissions
from proposals.models import (
    Proposal,
    ProposalType,
    Status,
)
from proposals.services.common import locked_proposal, timeline_add, transition


@dataclass(frozen=True)
class ProposalDraft:
    title: str
    summary: str
    body: str
    category: str = ""
    location: str = ""


@transaction.atomic(durable=True)
@stores_answer
def proposal_file(
    *, actor: User, municipality: Municipality, type_id: int, draft: ProposalDraft
) -> Proposal:
    """A verified, eligible resident files a proposal; it starts as a draft they can still edit."""
    return proposal_file_within(
        actor=actor, municipality=municipality, type_id=type_id, draft=draft
    )


@transaction.atomic
def proposal_file_within(
    *, actor: User, municipality: Municipality, type_id: int, draft: ProposalDraft
) -> Proposal:
    """`proposal_file` as one step of a caller's own transaction: a debate's conclusion files its
    draft and links it in one commit, so neither exists without the other."""
    proposal_type = ProposalType.objects.filter(
        pk=type_id, municipality=municipality, is_active=True
    ).first()
    if proposal_type is None:
        raise NotFound(_("No such proposal type here."), code="unknown_type")
    now = timezone.now()
    decision = permissions.can_file(actor, municipality, proposal_type, now)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    title, summary, body = draft.title.strip(), draft.summary.strip(), draft.body.strip()
    if not title or not summary or not body:
        raise InvalidInput(_("Title, summary and proposal text are required."), code="incomplete")
    proposal = Proposal(
        municipality=municipality,
        type=proposal_type,
        author=actor,
        title=title[:120],
        summary=summary[:400],
        body=body,
        category=draft.category.strip()[:40],
        location=draft.location.strip()[:120],
        created_at=now,
        updated_at=now,
    )
    proposal.refresh_search_text()
    proposal.save(force_insert=True)
    timeline_add(proposal, Status.DRAFT, now)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.file",
        target=proposal,
        data={"type": proposal_type.pk, "title": proposal.title},
    )
    return proposal


def _closing_time(proposal_type: ProposalType, opens: datetime) -> datetime:
    if proposal_type.direct_demand:  # the law's period, not the ordinance's
        from proposals.models import CollectionBlackout

        blackouts = list(
            CollectionBlackout.objects.filter(municipality_id=proposal_type.municipality_id)
        )
        last_day = legal_calendar.collection_last_day_suspended(
            proposal_type.municipality,
            legal_calendar.tokyo_day(opens) + timedelta(days=1),
            blackouts,
        )
        return legal_calendar.start_of_day(last_day + timedelta(days=1))
    if proposal_type.collection_until is not None:
        return datetime.combine(proposal_type.collection_until, time.max, TOKYO)
    assert proposal_type.collection_days is not None
    return opens + timedelta(days=proposal_type.collection_days)


@transaction.atomic(durable=True)
@stores_answer
def collection_open(*, actor: User, municipality: Municipality, proposal_id: int) -> Proposal:
    """The author opens signature collection; the goal is fixed from the type at this moment."""
    proposal = locked_proposal(proposal_id, municipality)
    if proposal.author_id != actor.pk:
        raise PermissionDenied(_("Only the author can open collection."), code="not_author")
    if proposal.type.committee_size:
        from proposals.services.lifecycle import committee_complete

        if proposal.status != Status.COMMITTEE or not committee_complete(proposal):
            raise Conflict(
                _("The promoters' committee must be confirmed before collection opens."),
                code="committee_required",
            )
    if proposal.type.direct_demand and proposal.certificate_issued_at is None:
        raise Conflict(
            _("The election office has not issued the representative's certificate yet."),
            code="no_certificate",
        )
    transition(proposal, (Status.DRAFT, Status.COMMITTEE), Status.COLLECTING)
    threshold = proposal.type.threshold()
    if threshold is None:
        raise Conflict(
            _("The election office has not entered the register size yet."), code="no_register"
        )
    now = timezone.now()
    proposal.threshold = threshold
    proposal.collection_opens_at = now
    proposal.collection_closes_at = _closing_time(proposal.type, now)
    proposal.updated_at = now
    proposal.save(
        update_fields=[
            "status",
            "threshold",
            "collection_opens_at",
            "collection_closes_at",
            "updated_at",
        ]
    )
    timeline_add(proposal, Status.COLLECTING, now)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.collection_open",
        target=proposal,
        data={"threshold": threshold},
    )
    return proposal
