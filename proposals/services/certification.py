"""Certification by the election office (as the Local Autonomy Act requires for direct demands):
review the signatories, invalidate with reasons, certify, public inspection, objections."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.models import Municipality, User
from identity.permissions import require
from proposals import legal_calendar, permissions
from proposals.models import InvalidReason, Objection, Proposal, Signature, Status
from proposals.services.common import locked_proposal, timeline_add, transition
from proposals.services.lifecycle import submit


@transaction.atomic(durable=True)
def signature_invalidate(
    *, actor: User, municipality: Municipality, signature_id: int, reason: str
) -> Signature:
    require(permissions.can_certify(actor, municipality))
    if reason not in InvalidReason.values:
        raise InvalidInput(_("Choose why the signature is invalid."), code="invalid_reason")
    proposal_id = (
        Signature.objects.filter(pk=signature_id, proposal__municipality=municipality)
        .values_list("proposal_id", flat=True)
        .first()
    )
    if proposal_id is None:
        raise NotFound(_("No such signature here."))
    # The proposal first (as publishing the count locks it), so marking a signature cannot slip
    # in beside a count being published; then the signature row alone.
    proposal = locked_proposal(proposal_id, municipality)
    signature = Signature.objects.select_for_update(of=("self",)).get(pk=signature_id)
    signature.proposal = proposal
    if (
        signature.proposal.status != Status.CERTIFICATION
        or signature.proposal.certified_count is not None
    ):
        raise Conflict(
            _("Signatures can be marked only during certification."), code="not_certifying"
        )
    signature.invalid_reason = reason
    signature.save(update_fields=["invalid_reason"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.invalidate",
        target=signature,
        data={"proposal": signature.proposal_id, "reason": reason},
    )
    return signature


def valid_count(proposal: Proposal) -> int:
    return Signature.objects.filter(
        proposal=proposal, withdrawn_at__isnull=True, invalid_reason=""
    ).count()


@transaction.atomic(durable=True)
def certification_publish(*, actor: User, municipality: Municipality, proposal_id: int) -> Proposal:
    """Fix the valid count and open the public inspection period."""
    require(permissions.can_certify(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    transition(proposal, (Status.CERTIFICATION,), Status.CERTIFICATION)
    if proposal.certified_count is not None:
        raise Conflict(_("The count was published already."), code="already_published")
    now = timezone.now()
    today = legal_calendar.tokyo_day(now)
    proposal.certified_count = valid_count(proposal)
    proposal.inspection_ends_at = legal_calendar.inspection_ends_at(
        now, proposal.type.inspection_days
    )
    proposal.updated_at = now
    proposal.save(update_fields=["certified_count", "inspection_ends_at", "updated_at"])
    timeline_add(
        proposal,
        Status.CERTIFICATION,
        now,
        # The inspection's end is not written into the note: the page and the timeline both show
        # it from `inspection_ends_at`, the one date objections and finalising obey.
        note=str(_("Certified count published: %(n)s valid signatures."))
        % {"n": proposal.certified_count},
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.certification_publish",
        target=proposal,
        data={
            "certified_count": proposal.certified_count,
            # The 20-day limit binds the office, not the demand: publishing late is allowed (a
            # refusal would sink a valid demand through the office's delay), and recorded.
            "days_late": max(0, (today - proposal.check_due_on).days)
            if proposal.check_due_on
            else 0,
        },
    )
    return proposal


@transaction.atomic(durable=True)
def objection_file(
    *, actor: User, municipality: Municipality, proposal_id: int, text: str
) -> Objection:
    proposal = locked_proposal(proposal_id, municipality)
    now = timezone.now()
    decision = permissions.can_object(actor, municipality, proposal.type, now)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    if (
        proposal.status != Status.CERTIFICATION
        or proposal.inspection_ends_at is None
        or now >= proposal.inspection_ends_at
    ):
        raise Conflict(
            _("Objections can be filed only during the public inspection."), code="not_inspecting"
        )
    if not text.strip():
        raise InvalidInput(_("Write your objection."), code="empty")
    objection = Objection.objects.create(
        proposal=proposal, filed_by=actor, text=text.strip()[:4000]
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.objection_file",
        target=objection,
        data={"proposal": proposal.pk},
    )
    return objection


@transaction.atomic(durable=True)
def objection_answer(
    *, actor: User, municipality: Municipality, objection_id: int, answer: str
) -> Objection:
    require(permissions.can_certify(actor, municipality))
    objection = (
        Objection.objects.select_for_update()
        .filter(pk=objection_id, proposal__municipality=municipality)
        .first()
    )
    if objection is None:
        raise NotFound(_("No such objection here."))
    if objection.answered_at is not None:
        raise Conflict(_("This objection was answered already."), code="already_answered")
    if not answer.strip():
        raise InvalidInput(_("Write the answer."), code="empty")
    objection.answer, objection.answered_by, objection.answered_at = (
        answer.strip(),
        actor,
        timezone.now(),
    )
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.objection_answer",
        target=objection,
        data={"proposal": objection.proposal_id},
    )
    return objection


@transaction.atomic(durable=True)
def certification_finalize(
    *, actor: User, municipality: Municipality, proposal_id: int
) -> Proposal:
    """After the inspection, with every objection answered: at or above the goal it goes to the
    council, below it the proposal is not certified."""
    require(permissions.can_certify(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    transition(proposal, (Status.CERTIFICATION,), Status.CERTIFICATION)
    now = timezone.now()
    if proposal.inspection_ends_at is None or now < proposal.inspection_ends_at:
        raise Conflict(_("The public inspection has not ended yet."), code="inspection_open")
    if proposal.objections.filter(answered_at__isnull=True).exists():
        raise Conflict(_("Answer every objection first."), code="objections_open")
    # Objections may have led to more invalid signatures: count again.
    proposal.certified_count = valid_count(proposal)
    if proposal.threshold is not None and proposal.certified_count >= proposal.threshold:
        submit(proposal, now)
    else:
        proposal.status = Status.NOT_CERTIFIED
    proposal.updated_at = now
    proposal.save(
        update_fields=["status", "certified_count", "submitted_at", "answer_due_on", "updated_at"]
    )
    timeline_add(proposal, proposal.status, now)
    audit_record(
        actor=actor,
        municipality=municipality,
        action=f"proposal.{proposal.status}",
        target=proposal,
        data={"certified_count": proposal.certified_count},
    )
    return proposal


@transaction.atomic(durable=True)
def signatory_list_open(*, actor: User, municipality: Municipality, proposal_id: int) -> Proposal:
    """The election office downloads the signatory list (personal data): allowed, then audited."""
    require(permissions.can_certify(actor, municipality))
    proposal = Proposal.objects.filter(pk=proposal_id, municipality=municipality).first()
    if proposal is None or proposal.status in (Status.DRAFT, Status.COMMITTEE):
        raise NotFound(_("No such proposal here."))
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.signatory_list_download",
        target=proposal,
        data={"signatures": proposal.signature_count},
    )
    return proposal
