"""Issue 14: with Redis down, signing and filing answer as the commit does (never 500), and what
they send after commit (the live count, the threshold e-mail) waits in the outbox and goes out
exactly once when Redis is back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.test import Client
from django.utils import timezone

from identity.models import Municipality, OutboxMessage, User
from identity.outbox import outbox_relay_all
from proposals import events
from proposals.models import Proposal, Signature
from tests.conftest import RedisServer, channel_messages
from tests.factories import ProposalFactory, ProposalTypeFactory, verified

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pending() -> list[str]:
    return sorted(OutboxMessage.objects.filter(sent_at__isnull=True).values_list("kind", flat=True))


def test_signing_and_filing_survive_a_redis_outage_and_deliver_once_after(
    town: Municipality,
    redis_services: RedisServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=2)
    author = verified(town)
    proposal = ProposalFactory(type=kind, author=author, collecting=True)
    OutboxMessage.objects.all().delete()  # the set-up's own messages are not this test's concern
    redis_services.stop()

    # Filing (API), signing through the API and through the page's form: each commits and
    # answers as it does with Redis up (the after-commit nudge fails quietly in the background).
    with django_capture_on_commit_callbacks(execute=True):
        filed = _client(author).post(
            "/api/v1/municipalities/maebashi/proposals",
            data=json.dumps({"type_id": kind.pk, "title": "公園", "summary": "s", "body": "b"}),
            content_type="application/json",
        )
    assert filed.status_code == 201, filed.content
    with django_capture_on_commit_callbacks(execute=True):
        signed = _client(verified(town)).post(
            f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
        )
    assert signed.status_code == 201, signed.content
    with django_capture_on_commit_callbacks(execute=True):
        form = _client(verified(town)).post(f"/m/maebashi/proposals/{proposal.pk}/sign/")
    assert form.status_code == 302
    assert Signature.objects.filter(proposal=proposal).count() == 2
    assert Proposal.objects.get(pk=proposal.pk).threshold_reached_at is not None
    # Nothing went out; everything waits: one live count per signing transaction, and one
    # threshold e-mail for the author (the only recipient).
    assert mail.outbox == []
    assert _pending() == [
        "proposals.notify",
        "proposals.signature_count",
        "proposals.signature_count",
    ]

    # A relay while Redis is still down: the broadcast fails and is put off with backoff (the
    # e-mail needs no Redis and goes).
    outbox_relay_all()
    assert _pending() == ["proposals.signature_count", "proposals.signature_count"]
    failed = OutboxMessage.objects.filter(sent_at__isnull=True)
    later = timezone.now()
    assert all(m.attempts == 1 and m.last_error and m.next_attempt_at > later for m in failed)

    redis_services.start()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.group_name(proposal.pk), channel)
    failed.update(next_attempt_at=timezone.now())  # the backoff has passed
    outbox_relay_all()
    outbox_relay_all()  # a second relay finds nothing to send again
    assert _pending() == []
    # Both pending counts of the proposal went out as one broadcast of the current count.
    assert channel_messages(layer, channel) == [
        {"type": "proposal.signature_count", "count": 2, "threshold": 2}
    ]
    assert [m.to for m in mail.outbox] == [[author.email]]
