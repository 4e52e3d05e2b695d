"""The transactional outbox: messages exist exactly when their change commits, are delivered
once (per key), and failures are retried with growing backoff without ever reaching the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from identity.models import OutboxMessage
from identity.outbox import outbox_add, outbox_handler, outbox_relay

pytestmark = pytest.mark.django_db

delivered: list[dict[str, Any]] = []
failures: list[Exception] = []


@outbox_handler("tests.probe")
def _probe(payload: dict[str, Any]) -> None:
    if failures:
        raise failures.pop()
    delivered.append(payload)


@pytest.fixture(autouse=True)
def _fresh() -> None:
    delivered.clear()
    failures.clear()


def test_a_rolled_back_change_leaves_no_message() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_add("tests.probe", {"n": 1})
        raise RuntimeError("the change fails")
    assert not OutboxMessage.objects.exists()


def test_committed_messages_go_out_once_after_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_add("tests.probe", {"n": 1})
        outbox_add("tests.probe", {"n": 2}, key="probe:2")
        assert delivered == []  # never before commit
    assert sorted(p["n"] for p in delivered) == [1, 2]
    assert outbox_relay() == 0
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    # The same key again (a repeated event): dropped, never delivered twice.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_add("tests.probe", {"n": 2}, key="probe:2")
    assert sorted(p["n"] for p in delivered) == [1, 2]
    assert OutboxMessage.objects.count() == 2


def test_unknown_kinds_are_refused_at_write_time() -> None:
    with pytest.raises(ValueError), transaction.atomic():
        outbox_add("tests.nobody-handles-this", {})


def test_failures_are_retried_with_growing_backoff_and_never_raise(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    failures.extend([ConnectionError("down again"), ConnectionError("down")])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_add("tests.probe", {"n": 1})  # the nudge's delivery fails: swallowed
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1
    assert "down" in message.last_error
    first_wait = message.next_attempt_at - timezone.now()
    assert outbox_relay() == 0  # not due yet
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_relay() == 0  # fails again
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at - timezone.now() > first_wait
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_relay() == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.last_error == ""
    assert delivered == [{"n": 1}]


def test_equal_messages_of_a_coalescing_kind_go_out_once_per_pass() -> None:
    from proposals.outbox import SIGNATURE_COUNT

    with transaction.atomic():
        for _ in range(3):
            outbox_add(SIGNATURE_COUNT, {"proposal": 999_999})  # no such proposal: a no-op send
    assert outbox_relay() == 3
    assert OutboxMessage.objects.filter(sent_at__isnull=False).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_claimed_by_another_relay_is_skipped() -> None:
    import threading

    OutboxMessage.objects.create(kind="tests.probe", payload={"n": 1})  # pending, not nudged
    locked, release = threading.Event(), threading.Event()

    def other_relay() -> None:
        from django.db import connection

        with transaction.atomic():
            list(OutboxMessage.objects.select_for_update())
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    locked.wait(10)
    try:
        assert outbox_relay() == 0  # skipped, not waited for
    finally:
        release.set()
        thread.join()
    assert outbox_relay() == 1 and delivered == [{"n": 1}]
