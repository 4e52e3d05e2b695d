from __future__ import annotations

from celery import shared_task

from identity.audit import audit_seal


@shared_task(ignore_result=True)
def audit_seal_task() -> int:
    """Run by Celery beat every few seconds; idempotent (sealed entries are never sealed again)."""
    return audit_seal()


@shared_task(ignore_result=True, expires=30)
def celery_heartbeat() -> None:
    """Sent by beat, run by a worker: `/healthz` reads when it last ran (identity/health.py)."""
    from identity.health import heartbeat_record

    heartbeat_record()


@shared_task(ignore_result=True)
def outbox_relay_task() -> int:
    """Run by Celery beat every few seconds and nudged after commits: deliver due outbox messages
    (identity.outbox). Concurrent runs skip each other's messages."""
    from identity.outbox import outbox_relay_all

    return outbox_relay_all()


@shared_task(ignore_result=True)
def outbox_purge_task() -> int:
    from identity.outbox import outbox_purge

    return outbox_purge()


@shared_task(ignore_result=True)
def idempotency_purge_task() -> int:
    """Hourly: forget the stored answers of `Idempotency-Key` writes once they expire (24 h)."""
    from identity.idempotency import idempotency_purge

    return idempotency_purge()
