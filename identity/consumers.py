"""Live updates for staff: the audit page learns when new entries have been sealed."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from identity import permissions
from identity.models import Municipality


def audit_group(municipality_id: int) -> str:
    return f"identity.audit.{municipality_id}"


@database_sync_to_async
def _authorised_municipality(user: Any, slug: str) -> Municipality | None:
    municipality = Municipality.objects.filter(slug=slug, is_active=True).first()
    if municipality is None or not permissions.can_view_audit_log(user, municipality):
        return None
    return municipality


class AuditFeedConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        municipality = await _authorised_municipality(self.scope.get("user"), slug)
        if municipality is None:
            await self.close(code=4403)
            return
        self.group = audit_group(municipality.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The feed is one-way; tell a client that sends anything so it is not left guessing.
        await self.send_json(
            {"type": "error", "code": "unsupported", "message": "This feed accepts no messages."}
        )

    async def decode_json(self, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def audit_sealed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "audit.sealed", "count": event["count"], "seq": event["seq"]})
