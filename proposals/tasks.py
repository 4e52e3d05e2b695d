from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from proposals import events
from proposals.models import Follow, Notification, Proposal


@shared_task(ignore_result=True)
def broadcast_signature_count(proposal_id: int) -> None:
    events.broadcast(proposal_id)


def _notify(proposal_id: int, event: str) -> int:
    """E-mail the author and followers once each: the Notification row is the claim."""
    proposal = Proposal.objects.select_related("author", "municipality").get(pk=proposal_id)
    recipients = {
        proposal.author,
        *(f.user for f in Follow.objects.filter(proposal=proposal).select_related("user")),
    }
    sent = 0
    for user in recipients:
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
            continue  # mailed already (a retried task)
        sent += 1
    return sent


@shared_task(
    ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def notify_threshold_reached(proposal_id: int) -> int:
    return _notify(proposal_id, "threshold")


@shared_task(
    ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def notify_answered(proposal_id: int) -> int:
    return _notify(proposal_id, "answered")


@shared_task(
    ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def notify_expired(proposal_id: int) -> int:
    return _notify(proposal_id, "expired")


@shared_task(
    ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def notify_clarification(proposal_id: int, question: str) -> int:
    """To the author only: the council's question."""
    proposal = Proposal.objects.select_related("author").get(pk=proposal_id)
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "proposals/email/clarification.txt", {"proposal": proposal, "question": question}
        )
    send_mail(str(proposal.title), body, None, [proposal.author.email])
    return 1


@shared_task(ignore_result=True)
def close_due_collections() -> int:
    from proposals.services.lifecycle import collections_close_due

    return collections_close_due()
