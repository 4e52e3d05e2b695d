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


def test_the_cache_shares_one_redis_client_across_calls_and_threads() -> None:
    """The configured cache (django-redis) reuses one redis-py client per pool: Django's own
    backend builds one per call, which cost as much CPU as the round trip."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django_redis.cache import RedisCache

    # Production's cache backend (tests otherwise use the local-memory cache).
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-cache-{time.time_ns()}"})
    client = cache.client.get_client()
    cache.set("a", {"n": 1}, 30)
    assert cache.get("a") == {"n": 1}
    assert cache.add("a", 2, 30) is False and cache.add("b", 2, 30) is True
    cache.set_many({"c": 3, "d": [4]}, 30)
    assert cache.get_many(["a", "b", "c", "e"]) == {"a": {"n": 1}, "b": 2, "c": 3}
    assert cache.incr("b", 5) == 7

    def work(i: int) -> object:
        cache.set(f"t{i}", i, 30)
        assert cache.client.get_client() is client
        return cache.get(f"t{i}")

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(64))) == list(range(64))
    assert cache.client.get_client(write=False) is client
    cache.delete_many(["a", "b", "c", "d", *(f"t{i}" for i in range(64))])
    assert cache.get("t3") is None
