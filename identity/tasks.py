from __future__ import annotations

from celery import shared_task

from identity.audit import audit_seal


@shared_task(ignore_result=True)
def audit_seal_task() -> int:
    """Run by Celery beat every few seconds; idempotent (sealed entries are never sealed again)."""
    return audit_seal()
