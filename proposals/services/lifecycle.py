"""The proposal's life after filing: committee, withdrawal, closing collection, submission."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, NotFound, PermissionDenied
from identity.models import Municipality, User
from proposals import legal_calendar, permissions
from proposals.models import CommitteeMember, InvitationState, Proposal, Status
from proposals.services.common import locked_proposal, timeline_add, transition


def _require_author(proposal: Proposal, actor: User) -> None:
    if proposal.author_id != actor.pk:
        raise PermissionDenied(_("Only the author can do this."), code="not_author")


@transaction.atomic(durable=True)
def committee_invite(
    *, actor: User, municipality: Municipality, proposal_id: int, email: str
) -> CommitteeMember:
    """The author invites a resident to the promoters' committee; they are e-mailed and find the
    invitation under My account."""
    proposal = locked_proposal(proposal_id, municipality)
    _require_author(proposal, actor)
    if not proposal.type.committee_size:
        raise Conflict(_("This kind of proposal needs no committee."), code="no_committee")
    transition(proposal, (Status.DRAFT, Status.COMMITTEE), Status.COMMITTEE)
    invitee = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if invitee is None:
        raise NotFound(_("No account has this e-mail address."), code="user_not_found")
    earlier = CommitteeMember.objects.filter(proposal=proposal, user=invitee).first()
    if earlier is not None and earlier.state == InvitationState.DECLINED:
        # Asking again would only be a reminder the invitee already said no to.
        raise Conflict(_("This person declined the invitation."), code="invitation_declined")
    try:
        with transaction.atomic():
            member = CommitteeMember.objects.create(proposal=proposal, user=invitee)
    except IntegrityError:
        raise Conflict(_("This person is invited already."), code="already_invited") from None
    proposal.updated_at = timezone.now()
    proposal.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.committee_invite",
        target=proposal,
        data={"user": invitee.pk, "member": member.pk},
    )
    from proposals.outbox import committee_invited

    committee_invited(member)
    return member


def _invitation(proposal: Proposal, actor: User) -> CommitteeMember:
    """The actor's invitation to a committee being formed, locked: accept and decline of the same
    invitation (two tabs, a double click) are decided one after the other."""
    if proposal.status != Status.COMMITTEE:
        raise Conflict(_("The committee is not being formed."), code="illegal_transition")
    member = (
        CommitteeMember.objects.select_for_update().filter(proposal=proposal, user=actor).first()
    )
    if member is None:
        raise PermissionDenied(_("You were not invited to this committee."), code="not_invited")
    return member


@transaction.atomic(durable=True)
def committee_accept(
    *, actor: User, municipality: Municipality, proposal_id: int
) -> CommitteeMember:
    """An invited promoter accepts; they must be an eligible resident like any signer. Accepting
    twice is the same as once."""
    proposal = locked_proposal(proposal_id, municipality)
    member = _invitation(proposal, actor)
    if member.state == InvitationState.ACCEPTED:
        return member
    if member.state == InvitationState.DECLINED:
        raise Conflict(_("You declined this invitation."), code="invitation_declined")
    decision = permissions.can_sign(actor, municipality, proposal.type, timezone.now())
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    member.state = InvitationState.ACCEPTED
    member.confirmed_at = timezone.now()
    member.save(update_fields=["state", "confirmed_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.committee_accept",
        target=proposal,
        data={"member": member.pk},
    )
    return member


@transaction.atomic(durable=True)
def committee_decline(
    *, actor: User, municipality: Municipality, proposal_id: int
) -> CommitteeMember:
    """An invited resident says no. Declining twice is the same as once; a promoter who has
    accepted stays one (the author may be counting on them to open collection)."""
    proposal = locked_proposal(proposal_id, municipality)
    member = _invitation(proposal, actor)
    if member.state == InvitationState.DECLINED:
        return member
    if member.state == InvitationState.ACCEPTED:
        raise Conflict(_("You have accepted this invitation already."), code="invitation_accepted")
    member.state = InvitationState.DECLINED
    member.declined_at = timezone.now()
    member.save(update_fields=["state", "declined_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.committee_decline",
        target=proposal,
        data={"member": member.pk},
    )
    return member


def committee_complete(proposal: Proposal) -> bool:
    confirmed = CommitteeMember.objects.filter(
        proposal=proposal, state=InvitationState.ACCEPTED
    ).count()
    return confirmed >= proposal.type.committee_size


@transaction.atomic(durable=True)
def proposal_withdraw(*, actor: User, municipality: Municipality, proposal_id: int) -> Proposal:
    proposal = locked_proposal(proposal_id, municipality)
    _require_author(proposal, actor)
    transition(
        proposal,
        (Status.DRAFT, Status.COMMITTEE, Status.COLLECTING, Status.THRESHOLD_REACHED),
        Status.WITHDRAWN,
    )
    now = timezone.now()
    proposal.updated_at = now
    proposal.save(update_fields=["status", "updated_at"])
    timeline_add(proposal, Status.WITHDRAWN, now)
    audit_record(
        actor=actor, municipality=municipality, action="proposal.withdraw", target=proposal
    )
    return proposal


def submit(proposal: Proposal, now: object) -> None:
    proposal.status = Status.SUBMITTED
    proposal.submitted_at = now  # type: ignore[assignment]
    proposal.answer_due_on = (
        timezone.localdate(now) + timedelta(days=proposal.type.answer_deadline_days)  # type: ignore[arg-type]
    )


def _close(proposal: Proposal, actor: User | None) -> str:
    """End collection: below the goal it expires; above it goes to certification or the council."""
    now = timezone.now()
    if proposal.type.direct_demand:
        # The sheets go to the election office whatever the online count: most signatures of a
        # direct demand are on paper and are entered during the check.
        proposal.status = Status.CERTIFICATION
        proposal.check_due_on = legal_calendar.check_due_on(legal_calendar.tokyo_day(now))
        event = "certification"
    elif proposal.status == Status.COLLECTING:
        proposal.status = Status.EXPIRED
        event = "expired"
    elif proposal.type.certification_required:
        proposal.status = Status.CERTIFICATION
        event = "certification"
    else:
        submit(proposal, now)
        event = "submitted"
    proposal.collection_closes_at = min(proposal.collection_closes_at or now, now)
    proposal.updated_at = now
    proposal.save(
        update_fields=[
            "status",
            "collection_closes_at",
            "submitted_at",
            "answer_due_on",
            "check_due_on",
            "updated_at",
        ]
    )
    timeline_add(proposal, proposal.status, now)
    audit_record(
        actor=actor,
        municipality=proposal.municipality,
        action=f"proposal.{event}",
        target=proposal,
        data={"signatures": proposal.signature_count},
    )
    if event == "expired":
        from proposals.outbox import notify

        notify(proposal, "expired")
    return event


@transaction.atomic(durable=True)
def collection_close_early(
    *, actor: User, municipality: Municipality, proposal_id: int
) -> Proposal:
    """The author may end collection once the goal is reached, to move on sooner."""
    proposal = locked_proposal(proposal_id, municipality)
    _require_author(proposal, actor)
    transition(proposal, (Status.THRESHOLD_REACHED,), Status.THRESHOLD_REACHED)
    _close(proposal, actor)
    return proposal


def collections_close_due() -> int:
    """Celery beat: close every collection whose period has ended. Each in its own transaction."""
    due = Proposal.objects.filter(
        status__in=(Status.COLLECTING, Status.THRESHOLD_REACHED),
        collection_closes_at__lte=timezone.now(),
    ).values_list("pk", "municipality_id")
    closed = 0
    for proposal_id, municipality_id in list(due):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(of=("self",))
                .select_related("type", "municipality")
                .filter(pk=proposal_id, municipality_id=municipality_id)
                .first()
            )
            if proposal is None or proposal.status not in (
                Status.COLLECTING,
                Status.THRESHOLD_REACHED,
            ):
                continue
            if proposal.collection_closes_at and proposal.collection_closes_at > timezone.now():
                continue
            _close(proposal, None)
            closed += 1
    return closed
