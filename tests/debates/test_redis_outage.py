"""Issue 14: with Redis down, posting a contribution and voting answer as the commit does; their
broadcast and the recomputation they ask for wait in the outbox and go out once Redis is back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client
from django.utils import timezone

from debates import events
from debates.services import statement_create_from_contributions
from identity.models import Municipality, OutboxMessage, Role, User
from identity.outbox import outbox_relay_all
from tests.conftest import RedisServer, channel_messages
from tests.factories import DebateFactory, MunicipalityFactory, staff, verified

pytestmark = pytest.mark.django_db
BASE = "/api/v1/municipalities/maebashi/debates"


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi")


def _post(user: User, url: str, data: dict[str, Any]) -> Any:
    client = Client()
    client.force_login(user)
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_contributions_and_votes_survive_a_redis_outage_and_deliver_once_after(
    town: Municipality,
    redis_services: RedisServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    moderator = staff(town, Role.MODERATOR)
    diverging = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    converging = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    statement = statement_create_from_contributions(
        actor=moderator, debate_id=converging.pk, text="屋根を"
    )
    resident = verified(town)
    OutboxMessage.objects.all().delete()  # the set-up's own messages are not this test's concern
    redis_services.stop()

    with django_capture_on_commit_callbacks(execute=True):
        made = _post(resident, f"{BASE}/{diverging.pk}/contributions", {"title": "a", "body": "b"})
    assert made.status_code == 201, made.content
    with django_capture_on_commit_callbacks(execute=True):
        voted = _post(
            resident, f"{BASE}/{converging.pk}/statements/{statement.pk}/vote", {"value": 1}
        )
    assert voted.status_code == 200, voted.content
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert sorted(pending.values_list("kind", flat=True)) == [
        "debates.event",
        "debates.opinions_schedule",
    ]
    outbox_relay_all()  # still down: both fail and wait
    assert pending.count() == 2

    redis_services.start()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.group_name(diverging.pk), channel)
    pending.update(next_attempt_at=timezone.now())  # the backoff has passed
    outbox_relay_all()
    outbox_relay_all()
    assert pending.count() == 0
    contribution_id = json.loads(made.content)["id"]
    assert channel_messages(layer, channel) == [
        {"type": "debate.event", "event": "contribution_added", "data": {"id": contribution_id}}
    ]
    assert redis_services.queued_tasks("debates.tasks.opinions_recompute") == 1
