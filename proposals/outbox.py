"""What proposals/ sends after a change: outbox messages written in the change's transaction and
delivered by identity.outbox's relay (imported by ProposalsConfig.ready to register handlers)."""

from __future__ import annotations

from typing import Any

from identity.outbox import Message, outbox_add, outbox_add_many, outbox_handler
from proposals import events
from proposals.models import CommitteeMember, Follow, Proposal

SIGNATURE_COUNT = "proposals.signature_count"
NOTIFY = "proposals.notify"
CLARIFICATION = "proposals.clarification"
COMMITTEE_INVITATION = "proposals.committee_invitation"


def signature_count_changed(proposal_id: int) -> None:
    """One message per proposal per transaction (a group commit writes one for all its signers);
    the broadcast reads the count when it goes out, so a burst yields few broadcasts."""
    outbox_add(SIGNATURE_COUNT, {"proposal": proposal_id})


def notify(proposal: Proposal, event: str) -> None:
    """E-mail the author and each follower about `event`: one message per recipient, once."""
    recipients = {
        proposal.author_id,
        *Follow.objects.filter(proposal=proposal).values_list("user_id", flat=True),
    }
    outbox_add_many(
        Message(
            NOTIFY,
            {"proposal": proposal.pk, "event": event, "user": user_id},
            key=f"{NOTIFY}:{event}:{proposal.pk}:{user_id}",
        )
        for user_id in sorted(recipients)
    )


def clarification_requested(proposal_id: int, question: str) -> None:
    outbox_add(CLARIFICATION, {"proposal": proposal_id, "question": question})


def committee_invited(member: CommitteeMember) -> None:
    """E-mail the invitee, once per invitation."""
    outbox_add(
        COMMITTEE_INVITATION, {"member": member.pk}, key=f"{COMMITTEE_INVITATION}:{member.pk}"
    )


@outbox_handler(SIGNATURE_COUNT, coalesce=True)
def _broadcast_count(payload: dict[str, Any]) -> None:
    events.broadcast(int(payload["proposal"]))


@outbox_handler(NOTIFY)
def _notify(payload: dict[str, Any]) -> None:
    from proposals.tasks import notify_user

    notify_user(int(payload["proposal"]), int(payload["user"]), str(payload["event"]))


@outbox_handler(CLARIFICATION)
def _clarification(payload: dict[str, Any]) -> None:
    from proposals.tasks import notify_clarification

    notify_clarification(int(payload["proposal"]), str(payload["question"]))


@outbox_handler(COMMITTEE_INVITATION)
def _committee_invitation(payload: dict[str, Any]) -> None:
    from proposals.tasks import notify_committee_invitation

    notify_committee_invitation(int(payload["member"]))
