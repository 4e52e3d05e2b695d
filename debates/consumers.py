"""Live debate events for anyone viewing a debate (public data, no sign-in needed).

The feed is one-way: the server sends `debate.event` frames (`phase_changed`,
`contribution_added`, `statement_published`, `opinions_updated`, see `debates.events`); any
message from the client is answered with an error frame and changes nothing. The pages are
complete without the socket."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from debates.events import group_name
from debates.models import Debate

NO_MESSAGES = {
    "type": "error",
    "code": "unsupported",
    "message": "This feed accepts no messages.",
}


@database_sync_to_async
def _exists(debate_id: int) -> bool:
    return Debate.objects.filter(pk=debate_id).exists()


class DebateConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        debate_id = int(self.scope["url_route"]["kwargs"]["debate_id"])
        if not await _exists(debate_id):
            await self.close(code=4404)
            return
        self.group = group_name(debate_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Text, JSON or not, and binary frames alike: refused, nothing happens.
        await self.send_json(NO_MESSAGES)

    async def debate_event(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "debate.event", "event": event["event"], "data": event.get("data", {})}
        )
