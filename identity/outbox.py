"""The transactional outbox (docs/decisions.md, "Effects after commit: an outbox").

Everything that leaves the database after a change (e-mails, live broadcasts, tasks queued on the
broker) is written with :func:`outbox_add` as a row in the transaction of that change, so it exists
exactly when the change does. :func:`outbox_relay` delivers due rows to the handler registered for
their kind, marks them sent, and on failure retries them later with exponential backoff. It runs
from Celery beat every few seconds (``identity.tasks.outbox_relay_task``); after each commit that
wrote messages a best-effort nudge (which never raises and never makes the request wait) asks for a
relay at once. Without a broker (eager Celery, the embedded default) the nudge relays in-process.

A handler takes the payload, raises to be retried, and must be safe to run twice (a worker can die
between delivering and marking): delivery is at least once, and the dedupe key makes it once per
recipient and event. Handlers of ``coalesce`` kinds read the current state (e.g. a count) rather
than carry it, so equal pending messages of such a kind are delivered once per relay pass.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from identity.models import OutboxMessage

logger = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Handler = Callable[[dict[str, Any]], object]

# A claimed message is invisible to other relays this long (a relay that died mid-way is retried).
LEASE = timedelta(minutes=2)
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 3600.0
# Messages claimed per pass of the relay.
BATCH = 200
# Sent messages are kept this long (for the admin and for dedupe of late duplicates).
KEEP = timedelta(days=7)


@dataclass(frozen=True)
class _Registration:
    handler: Handler
    coalesce: bool


_handlers: dict[str, _Registration] = {}


def outbox_handler(kind: str, *, coalesce: bool = False) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of message (each app registers its own in `ready()`)."""

    def register(handler: Handler) -> Handler:
        if kind in _handlers and _handlers[kind].handler is not handler:
            raise ValueError(f"outbox kind {kind!r} has a handler already")
        _handlers[kind] = _Registration(handler, coalesce)
        return handler

    return register


def outbox_kinds() -> frozenset[str]:
    return frozenset(_handlers)


@dataclass(frozen=True)
class Message:
    """One message for :func:`outbox_add_many`."""

    kind: str
    payload: Payload
    key: str | None = None


def outbox_add(kind: str, payload: Payload, *, key: str | None = None) -> None:
    """Write one message in the current transaction (one INSERT). With a `key`, a message with
    the same key written before (even long delivered) wins and this one is dropped."""
    outbox_add_many([Message(kind, payload, key)])


def outbox_add_many(messages: Iterable[Message]) -> None:
    """Several messages in one INSERT."""
    now = timezone.now()
    rows = []
    for message in messages:
        if message.kind not in _handlers:
            raise ValueError(f"no outbox handler for {message.kind!r}")
        rows.append(
            OutboxMessage(
                kind=message.kind,
                payload=dict(message.payload),
                key=message.key,
                created_at=now,
                next_attempt_at=now,
            )
        )
    if not rows:
        return
    keyed = [row for row in rows if row.key is not None]
    plain = [row for row in rows if row.key is None]
    if keyed:  # a key written before wins (no ids come back for these)
        OutboxMessage.objects.bulk_create(keyed, ignore_conflicts=True)
    if plain:
        OutboxMessage.objects.bulk_create(plain)
    # robust: the change has committed; nothing here may turn it into an error.
    transaction.on_commit(
        partial(outbox_nudge, ids=[row.pk for row in plain], keys=[row.key for row in keyed]),
        robust=True,
    )


# --- Delivery -----------------------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


def _claim(limit: int, only: Q | None) -> list[OutboxMessage]:
    """Take due messages for this relay: rows locked by another relay are skipped, and the claim
    (a lease) is committed at once, so delivery runs outside any transaction."""
    now = timezone.now()
    due = OutboxMessage.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now)
    if only is not None:
        due = due.filter(only)
    with transaction.atomic():
        claimed = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .only("id", "kind", "payload", "attempts")[:limit]
        )
        if claimed:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
                attempts=F("attempts") + 1, next_attempt_at=now + LEASE
            )
    for message in claimed:
        message.attempts += 1
    return claimed


def _deliver(kind: str, messages: list[OutboxMessage]) -> int:
    registration = _handlers.get(kind)
    ids = [m.pk for m in messages]
    try:
        if registration is None:
            raise LookupError(f"no outbox handler for {kind!r}")
        registration.handler(dict(messages[0].payload))
    except Exception as error:
        attempts = max(m.attempts for m in messages)
        logger.warning("outbox: %s failed (attempt %d): %r", kind, attempts, error)
        OutboxMessage.objects.filter(pk__in=ids).update(
            next_attempt_at=timezone.now() + _backoff(attempts), last_error=repr(error)[:2000]
        )
        return 0
    OutboxMessage.objects.filter(pk__in=ids).update(sent_at=timezone.now(), last_error="")
    return len(ids)


def outbox_relay(*, limit: int = BATCH, only: Q | None = None) -> int:
    """One pass: deliver up to `limit` due messages (those matching `only`, if given). Returns how
    many were delivered."""
    return _relay(limit, only)[1]


def _relay(limit: int, only: Q | None) -> tuple[int, int]:
    claimed = _claim(limit, only)
    groups: dict[tuple[str, str], list[OutboxMessage]] = {}
    for message in claimed:
        registration = _handlers.get(message.kind)
        same = (
            json.dumps(message.payload, sort_keys=True)
            if registration is not None and registration.coalesce
            else str(message.pk)
        )
        groups.setdefault((message.kind, same), []).append(message)
    delivered = sum(_deliver(kind, messages) for (kind, _same), messages in groups.items())
    return len(claimed), delivered


def outbox_relay_all(*, passes: int = 20) -> int:
    """The worker's relay: passes until a pass finds fewer due messages than it may take."""
    delivered = 0
    for _pass in range(passes):
        claimed, sent = _relay(BATCH, None)
        delivered += sent
        if claimed < BATCH:
            break
    return delivered


def outbox_backlog(*, older_than_seconds: float = 0) -> int:
    """Messages not yet delivered that were written more than `older_than_seconds` ago."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).count()


def outbox_purge(*, older_than: timedelta = KEEP) -> int:
    deleted, _by_model = OutboxMessage.objects.filter(
        sent_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


# --- The nudge after commit ---------------------------------------------------------------------

# At most one nudge per window per process; the relay it queues runs at the end of the window, so
# it also takes every message committed during the window.
NUDGE_WINDOW_SECONDS = 0.25
# After a failed nudge (broker unreachable) stay quiet this long: beat relays once it is back.
NUDGE_QUIET_AFTER_FAILURE_SECONDS = 5.0

_nudge_lock = threading.Lock()
_nudge_next = 0.0
_nudge_executor: ThreadPoolExecutor | None = None
_broker_down = False


def outbox_nudge(*, ids: Sequence[int] = (), keys: Sequence[str | None] = ()) -> None:
    """Ask for delivery now. Never raises and, with a broker, never waits for it.

    With a broker, a relay task is queued (at most once per window per process). Without one
    (eager Celery) this process relays at once: the messages of the transaction that just
    committed (`ids`, `keys`) and any due retry of an earlier failure."""
    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_relay(only=Q(pk__in=list(ids)) | Q(key__in=list(keys)) | Q(attempts__gt=0))
        else:
            _queue_relay()
    except Exception:
        logger.exception("outbox: the nudge failed; the periodic relay will deliver")


def _queue_relay() -> None:
    global _nudge_next, _nudge_executor
    now = time.monotonic()
    with _nudge_lock:
        if now < _nudge_next:
            return
        _nudge_next = now + NUDGE_WINDOW_SECONDS
        if _nudge_executor is None:
            _nudge_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-nudge")
        executor = _nudge_executor
    # Publishing to an unreachable broker can take seconds (connection retries): never in the
    # request's thread.
    executor.submit(_publish_relay)


def _publish_relay() -> None:
    global _nudge_next, _broker_down
    from identity.tasks import outbox_relay_task

    try:
        outbox_relay_task.apply_async(countdown=NUDGE_WINDOW_SECONDS, retry=False)
    except Exception as error:
        with _nudge_lock:
            _nudge_next = time.monotonic() + NUDGE_QUIET_AFTER_FAILURE_SECONDS
            first = not _broker_down
            _broker_down = True
        if first:  # once per outage, not per nudge
            logger.warning("outbox: broker unreachable (%r); beat relays once it is back", error)
    else:
        if _broker_down:
            _broker_down = False
            logger.warning("outbox: broker reachable again")


def outbox_nudges_settle(timeout: float = 30.0) -> None:
    """Wait until the nudges queued so far have been published or given up (tests, shutdown)."""
    with _nudge_lock:
        executor = _nudge_executor
    if executor is not None:
        executor.submit(lambda: None).result(timeout=timeout)
