"""The debate feed: anyone may listen (public data), service writes arrive after commit, and
client messages are refused with a clear error frame and change nothing. Runs on the in-memory
channel layer and, marked `redis`, on the Redis layer production uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.test import override_settings

from config.asgi import application
from debates.models import Contribution, Debate
from debates.services import (
    contribution_add,
    phase_advance,
    statement_create_from_contributions,
)
from identity.errors import PermissionDenied
from identity.models import AuditEntry, Municipality, Role, User
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db(transaction=True)

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _redis_layer() -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": django_settings.REDIS_URL, "socket_timeout": 15}]},
        }
    }


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def layer(request: pytest.FixtureRequest) -> Iterator[str]:
    config = IN_MEMORY if request.param == "memory" else _redis_layer()
    with override_settings(CHANNEL_LAYERS=config):
        channel_layers.backends.clear()
        yield request.param
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
async def _close_connections() -> AsyncIterator[None]:
    """Close the connections opened on the sync thread (consumer lookups, set-up), so none is
    left open to keep PostgreSQL from dropping the test database."""
    yield
    await sync_to_async(connections.close_all)()


@sync_to_async
def _setup() -> tuple[Municipality, User, User, Debate]:
    town = MunicipalityFactory(slug="maebashi")
    moderator = staff(town, Role.MODERATOR)
    resident = verified(town)
    debate = DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )
    return town, moderator, resident, debate


async def _listen(debate_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/debates/{debate_id}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_anonymous_listener_hears_the_phase_change(layer: str) -> None:
    _town, moderator, _resident, debate = await _setup()
    communicator = await _listen(debate.pk)
    phase = await sync_to_async(phase_advance)(actor=moderator, debate_id=debate.pk)
    message = await communicator.receive_json_from(timeout=5)
    assert message == {
        "type": "debate.event",
        "event": "phase_changed",
        "data": {"phase": "converge", "id": phase.pk},
    }
    await communicator.disconnect()


async def test_new_contribution_is_announced(layer: str) -> None:
    _town, _moderator, resident, debate = await _setup()
    communicator = await _listen(debate.pk)
    contribution = await sync_to_async(contribution_add)(
        actor=resident, debate_id=debate.pk, body="駅前にベンチを"
    )
    message = await communicator.receive_json_from(timeout=5)
    assert message == {
        "type": "debate.event",
        "event": "contribution_added",
        "data": {"id": contribution.pk},
    }
    await communicator.disconnect()


async def test_new_statement_is_announced_to_this_debate_only(layer: str) -> None:
    town, moderator, _resident, _debate = await _setup()
    converging = await sync_to_async(DebateFactory)(
        municipality=town, created_by=moderator, phases=("converge", "conclude")
    )
    other = await sync_to_async(DebateFactory)(
        municipality=town, created_by=moderator, phases=("converge",)
    )
    here = await _listen(converging.pk)
    elsewhere = await _listen(other.pk)
    statement = await sync_to_async(statement_create_from_contributions)(
        actor=moderator, debate_id=converging.pk, text="駅前にベンチを増やす"
    )
    message = await here.receive_json_from(timeout=5)
    assert message == {
        "type": "debate.event",
        "event": "statement_published",
        "data": {"id": statement.pk},
    }
    assert await elsewhere.receive_nothing(timeout=0.3)
    await here.disconnect()
    await elsewhere.disconnect()


async def test_nothing_is_sent_for_a_refused_write(layer: str) -> None:
    _town, _moderator, resident, debate = await _setup()
    communicator = await _listen(debate.pk)
    with pytest.raises(PermissionDenied):
        await sync_to_async(phase_advance)(actor=resident, debate_id=debate.pk)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_client_messages_are_refused_and_change_nothing(layer: str) -> None:
    _town, _moderator, _resident, debate = await _setup()
    communicator = await _listen(debate.pk)

    @sync_to_async
    def counts() -> tuple[int, int]:
        return Contribution.objects.count(), AuditEntry.objects.count()

    before = await counts()
    for frame in (
        {"text_data": "{not json"},
        {"text_data": '{"type": "contribution_add", "body": "hello"}'},
        {"bytes_data": b"\x00\x01"},
    ):
        await communicator.send_to(**frame)
        reply = await communicator.receive_json_from(timeout=5)
        assert reply == {
            "type": "error",
            "code": "unsupported",
            "message": "This feed accepts no messages.",
        }
    assert await counts() == before
    await communicator.disconnect()


async def test_unknown_debate_is_refused() -> None:
    communicator = WebsocketCommunicator(
        application,
        "/ws/debates/987654/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4404
