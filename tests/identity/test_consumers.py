from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from config.asgi import application
from identity.audit import audit_record, audit_seal
from identity.models import Municipality, Role, User
from tests.factories import MunicipalityFactory, UserFactory, staff

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(user: User | None) -> bytes:
    if user is None:
        return b""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(user: User | None, slug: str) -> tuple[WebsocketCommunicator, bool]:
    cookie = await sync_to_async(_session_cookie)(user)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/audit/{slug}/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect()
    return communicator, connected


def _write_and_seal(municipality: Municipality) -> None:
    with transaction.atomic():
        audit_record(actor=None, municipality=municipality, action="live.test")
    audit_seal()


@sync_to_async
def _setup() -> tuple[Municipality, Municipality, User, User]:
    maebashi = MunicipalityFactory(slug="maebashi")
    kamakura = MunicipalityFactory(slug="kamakura")
    admin = staff(maebashi, Role.ADMINISTRATOR)
    resident = UserFactory()
    return maebashi, kamakura, admin, resident


async def test_administrator_hears_when_entries_are_sealed() -> None:
    maebashi, _kamakura, admin, _resident = await _setup()
    communicator, connected = await _connect(admin, "maebashi")
    assert connected
    await sync_to_async(_write_and_seal)(maebashi)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "audit.sealed" and message["count"] >= 1
    await communicator.disconnect()


async def test_feed_refuses_anonymous_residents_and_other_municipalities() -> None:
    _maebashi, _kamakura, admin, resident = await _setup()
    for user, slug in (
        (None, "maebashi"),
        (resident, "maebashi"),
        (admin, "kamakura"),
        (admin, "nowhere"),
    ):
        _communicator, connected = await _connect(user, slug)
        assert not connected, (user, slug)


async def test_other_municipality_events_do_not_leak() -> None:
    _maebashi, kamakura, admin, _resident = await _setup()
    await sync_to_async(audit_seal)()  # seal the set-up entries before listening
    communicator, connected = await _connect(admin, "maebashi")
    assert connected
    await sync_to_async(_write_and_seal)(kamakura)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_bad_messages_get_a_clear_error() -> None:
    _maebashi, _kamakura, admin, _resident = await _setup()
    communicator, connected = await _connect(admin, "maebashi")
    assert connected
    for text in ("{not json", '{"type": "anything"}'):
        await communicator.send_to(text_data=text)
        reply = await communicator.receive_json_from(timeout=5)
        assert reply == {
            "type": "error",
            "code": "unsupported",
            "message": "This feed accepts no messages.",
        }
    await communicator.disconnect()
