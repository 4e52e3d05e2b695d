"""Live signature counts, coalesced: a burst of signatures yields a few broadcasts per second
carrying the latest count, not one channel-layer message per signature."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def group_name(proposal_id: int) -> str:
    return f"proposals.{proposal_id}"


def publish_signature_count(proposal_id: int) -> None:
    """Called inside the transaction that changed the count: an outbox message (one per proposal
    per transaction), broadcast after commit by the relay, which reads the count as it sends and
    sends once for all messages of a proposal pending together."""
    from proposals.outbox import signature_count_changed

    signature_count_changed(proposal_id)


def broadcast(proposal_id: int) -> None:
    from proposals.models import Proposal

    row = Proposal.objects.filter(pk=proposal_id).values("signature_count", "threshold").first()
    layer = get_channel_layer()
    if row is None or layer is None:
        return
    async_to_sync(layer.group_send)(
        group_name(proposal_id),
        {
            "type": "proposal.signature_count",
            "count": row["signature_count"],
            "threshold": row["threshold"],
        },
    )
