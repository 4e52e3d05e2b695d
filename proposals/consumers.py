"""Live signature counts for anyone viewing a proposal (public data, no sign-in needed)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from proposals.events import group_name
from proposals.models import Proposal, Status


@database_sync_to_async
def _public(proposal_id: int) -> bool:
    return Proposal.objects.filter(pk=proposal_id).exclude(status=Status.DRAFT).exists()


class ProposalCountConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        proposal_id = int(self.scope["url_route"]["kwargs"]["proposal_id"])
        if not await _public(proposal_id):
            await self.close(code=4404)
            return
        self.group = group_name(proposal_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def decode_json(self, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json(
            {"type": "error", "code": "unsupported", "message": "This feed accepts no messages."}
        )

    async def proposal_signature_count(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "proposal.signature_count",
                "count": event["count"],
                "threshold": event["threshold"],
            }
        )
