from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from identity.models import User
from proposals.models import CommitteeMember, InvitationState, Notification, Proposal, Status


def notify_user(proposal_id: int, user_id: int, event: str) -> bool:
    """E-mail one person about an event of a proposal (an outbox message's delivery). The
    Notification row is the claim, committed only with a sent mail: a repeated delivery mails
    nobody twice. Returns whether it mailed."""
    proposal = Proposal.objects.select_related("municipality").get(pk=proposal_id)
    user = User.objects.get(pk=user_id)
    if user.erased_at is not None:
        return False  # the account was deleted: no address to write to
    try:
        with transaction.atomic():
            Notification.objects.create(proposal=proposal, user=user, event=event)
            with translation.override(settings.LANGUAGE_CODE):
                body = render_to_string(
                    "proposals/email/event.txt",
                    {"proposal": proposal, "event": event, "user": user},
                )
                subject = render_to_string(
                    "proposals/email/event_subject.txt", {"proposal": proposal, "event": event}
                ).strip()
            send_mail(subject, body, None, [user.email])
    except IntegrityError:
        return False  # mailed already
    return True


def notify_clarification(proposal_id: int, question: str) -> int:
    """To the author only: the council's question."""
    proposal = Proposal.objects.select_related("author").get(pk=proposal_id)
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "proposals/email/clarification.txt", {"proposal": proposal, "question": question}
        )
    send_mail(str(proposal.title), body, None, [proposal.author.email])
    return 1


def notify_committee_invitation(member_id: int) -> bool:
    """E-mail an invitation to the promoters' committee (an outbox message's delivery), unless it
    was answered or the committee formed before the mail went out. The Notification row is the
    claim, as for `notify_user`. Returns whether it mailed."""
    member = (
        CommitteeMember.objects.select_related("proposal__municipality", "proposal__author", "user")
        .filter(pk=member_id)
        .first()
    )
    if (
        member is None
        or member.state != InvitationState.PENDING
        or member.proposal.status != Status.COMMITTEE
    ):
        return False
    proposal = member.proposal
    try:
        with transaction.atomic():
            Notification.objects.create(proposal=proposal, user=member.user, event="committee")
            with translation.override(settings.LANGUAGE_CODE):
                context = {"proposal": proposal, "member": member}
                body = render_to_string("proposals/email/committee_invitation.txt", context)
                subject = render_to_string(
                    "proposals/email/committee_invitation_subject.txt", context
                ).strip()
            send_mail(subject, body, None, [member.user.email])
    except IntegrityError:
        return False  # mailed already
    return True


@shared_task(ignore_result=True)
def close_due_collections() -> int:
    from proposals.services.lifecycle import collections_close_due

    return collections_close_due()


@shared_task(ignore_result=True)
def purge_signatory_data() -> int:
    """Hourly: signatory personal data past its retention period (proposals.services.retention)."""
    from proposals.services.retention import signatories_purge_all_due

    return signatories_purge_all_due()
