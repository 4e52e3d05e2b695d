"""`/healthz` says which dependency fails, with 503, and 200 only when none does."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from identity import audit, health
from identity.audit import audit_record
from identity.models import Municipality
from identity.tasks import celery_heartbeat

pytestmark = pytest.mark.django_db


def _health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, response.json()


def test_the_embedded_default_is_healthy_with_redis_and_celery_not_used(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    status, body = _health()
    assert status == 200
    assert body["status"] == "ok"
    assert {name: check["state"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "not_used",
        "celery": "not_used",
        "audit_seal_backlog": "ok",
        "outbox_backlog": "ok",
    }


def test_an_unsealed_backlog_fails(maebashi: Municipality, monkeypatch: Any, settings: Any) -> None:
    settings.REDIS_URL = ""
    with transaction.atomic():
        audit_record(actor=None, municipality=maebashi, action="test.event")
    monkeypatch.setattr(audit, "SEAL_GRACE_SECONDS", 0)  # every unsealed entry is overdue
    status, body = _health()
    assert status == 503 and body["status"] == "failing"
    assert body["checks"]["audit_seal_backlog"]["state"] == "failing"
    audit.audit_seal()
    assert _health()[0] == 200


def test_redis_unreachable_fails(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    status, body = _health()
    assert status == 503
    assert body["checks"]["redis"]["state"] == "failing"


@pytest.mark.redis
def test_redis_and_the_celery_heartbeat(settings: Any) -> None:
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker is expected: its heartbeat is checked
    from django.core.cache import cache

    cache.delete(health.HEARTBEAT_KEY)
    status, body = _health()
    assert status == 503 and body["checks"]["redis"]["state"] == "ok"
    assert body["checks"]["celery"] == {"state": "failing", "detail": "no heartbeat"}
    celery_heartbeat()  # what the worker runs when beat sends it
    status, body = _health()
    assert status == 200 and body["checks"]["celery"]["state"] == "ok"
    cache.set(health.HEARTBEAT_KEY, time.time() - health.HEARTBEAT_MAX_AGE_SECONDS - 5)
    status, body = _health()
    assert status == 503 and "ago" in body["checks"]["celery"]["detail"]


def test_an_outbox_message_stuck_for_minutes_fails(settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from identity.models import OutboxMessage

    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    OutboxMessage.objects.create(
        kind="test.stuck",
        created_at=timezone.now() - timedelta(seconds=health.OUTBOX_GRACE_SECONDS + 5),
    )
    status, body = _health()
    assert status == 503
    assert body["checks"]["outbox_backlog"]["state"] == "failing"
