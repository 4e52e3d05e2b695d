"""Issue 14: with Redis down, casting a ballot (and closing the election) answers as the commit
does; the receipt e-mail and the tally task wait in the outbox and go out once Redis is back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from identity.models import OutboxMessage
from identity.outbox import outbox_relay_all
from tests.conftest import RedisServer
from tests.voting.conftest import YES, Scenario
from voting import services

pytestmark = pytest.mark.django_db


def test_casting_survives_a_redis_outage_and_delivers_once_after(
    scenario: Scenario,
    redis_services: RedisServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    s = scenario
    voter = s.voters[0]
    ballot = s.ballot(voter, YES)
    OutboxMessage.objects.all().delete()
    redis_services.stop()

    client = Client()
    client.force_login(voter)
    with django_capture_on_commit_callbacks(execute=True):
        cast = client.post(
            f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots",
            data=json.dumps(ballot),
            content_type="application/json",
        )
    assert cast.status_code == 201, cast.content
    with django_capture_on_commit_callbacks(execute=True):
        services.election_close(actor=s.office, municipality=s.town, election_id=s.election.pk)
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert sorted(pending.values_list("kind", flat=True)) == ["voting.receipt", "voting.task"]
    assert mail.outbox == []

    redis_services.start()
    pending.update(next_attempt_at=timezone.now())
    outbox_relay_all()
    outbox_relay_all()
    assert pending.count() == 0
    tracker = json.loads(cast.content)["tracker"]
    assert len(mail.outbox) == 1 and tracker in mail.outbox[0].body
    assert redis_services.queued_tasks("voting.tasks.compute_tally") == 1
