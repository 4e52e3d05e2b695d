"""What `/healthz` reports: each dependency the site needs to do its work, judged without
personal data, for a load balancer or an operator.

A check is `ok`, `failing` or `not_used` (e.g. Redis and Celery on the embedded default, where
tasks run in-process). The site is healthy when no check fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from identity.audit import audit_seal_backlog
from identity.outbox import outbox_backlog

# Written by Celery beat's `celery_heartbeat` task through the worker: proves beat, broker and
# worker all run. Beat sends it every 15 s; older than this, one of them is down.
HEARTBEAT_KEY = "mebuku:celery-heartbeat"
HEARTBEAT_MAX_AGE_SECONDS = 60


@dataclass(frozen=True)
class Check:
    state: str  # "ok", "failing" or "not_used"
    detail: str = ""


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure to answer is the finding
        return Check("failing", type(error).__name__)
    return Check("ok")


def _redis() -> Check:
    if not settings.REDIS_URL:
        return Check("not_used")
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        return Check("failing", type(error).__name__)
    finally:
        client.close()
    return Check("ok")


def _celery() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check("not_used")
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as error:  # the cache is Redis: its failure is reported there
        return Check("failing", type(error).__name__)
    if beat is None:
        return Check("failing", "no heartbeat")
    age = time.time() - float(beat)
    if age > HEARTBEAT_MAX_AGE_SECONDS:
        return Check("failing", f"last heartbeat {age:.0f} s ago")
    return Check("ok", f"last heartbeat {age:.0f} s ago")


def _audit_seal() -> Check:
    try:
        backlog = audit_seal_backlog()
    except Exception as error:
        return Check("failing", type(error).__name__)
    if backlog:
        return Check("failing", f"{backlog} entries waiting too long for their seal")
    return Check("ok")


# The relay runs every 2 s and after commits; a message still waiting after this long means
# delivery is stuck (Redis or the worker down, or a handler failing: see `last_error`).
OUTBOX_GRACE_SECONDS = 300


def _outbox() -> Check:
    try:
        stuck = outbox_backlog(older_than_seconds=OUTBOX_GRACE_SECONDS)
    except Exception as error:
        return Check("failing", type(error).__name__)
    if stuck:
        return Check("failing", f"{stuck} messages waiting more than {OUTBOX_GRACE_SECONDS} s")
    return Check("ok")


def health_checks() -> dict[str, Check]:
    return {
        "database": _database(),
        "redis": _redis(),
        "celery": _celery(),
        "audit_seal_backlog": _audit_seal(),
        "outbox_backlog": _outbox(),
    }


def heartbeat_record() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=HEARTBEAT_MAX_AGE_SECONDS * 10)
