"""The real Redis: Celery delivers tasks through it to a real worker; Channels broadcasts
through it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import start_worker
from channels.layers import get_channel_layer
from django.db import transaction

from config.celery import app
from identity.audit import audit_record
from identity.models import AuditEntry
from identity.tasks import audit_seal_task
from tests.factories import MunicipalityFactory

pytestmark = [pytest.mark.redis]


@pytest.fixture
def celery_worker() -> Iterator[None]:
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager = eager


@pytest.mark.django_db(transaction=True)
def test_celery_worker_seals_through_redis(celery_worker: None) -> None:
    from django.conf import settings

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    municipality = MunicipalityFactory()
    with transaction.atomic():
        entry = audit_record(actor=None, municipality=municipality, action="worker.test")
    audit_seal_task.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if AuditEntry.objects.filter(pk=entry.pk, seq__isnull=False).exists():
            break
        time.sleep(0.1)
    assert AuditEntry.objects.get(pk=entry.pk).seq is not None


def test_channel_layer_is_redis_and_delivers_group_messages() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")

    async def roundtrip() -> dict[str, object]:
        channel = await layer.new_channel()
        await layer.group_add("test.group", channel)
        await layer.group_send("test.group", {"type": "test.message", "n": 7})
        message = await layer.receive(channel)
        await layer.group_discard("test.group", channel)
        return message

    assert async_to_sync(roundtrip)() == {"type": "test.message", "n": 7}
