"""Live signature counts, coalesced: a burst of signatures yields a few broadcasts per second
carrying the latest count, not one channel-layer message per signature."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

COALESCE_SECONDS = 0.25


def group_name(proposal_id: int) -> str:
    return f"proposals.{proposal_id}"


def _flag(proposal_id: int) -> str:
    return f"proposals:count-pending:{proposal_id}"


def publish_signature_count(proposal_id: int) -> None:
    """Called after a signature commits. The first caller in a window schedules the broadcast; the
    broadcast clears the flag before reading the count, so no committed signature is left out."""
    from proposals.tasks import broadcast_signature_count

    if cache.add(_flag(proposal_id), 1, timeout=30):
        broadcast_signature_count.apply_async((proposal_id,), countdown=COALESCE_SECONDS)


def broadcast(proposal_id: int) -> None:
    from proposals.models import Proposal

    cache.delete(_flag(proposal_id))
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
