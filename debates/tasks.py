"""Celery tasks of the debates app: ids in, idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def phases_announce() -> int:
    """Beat: broadcast `phase_changed` once for phases whose start has passed."""
    from debates.services.setup import phases_announce_due

    return phases_announce_due()


@shared_task(
    ignore_result=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def opinions_recompute(debate_id: int) -> int | None:
    """Debounced after votes: recompute the opinion groups if the debate is dirty. Returns the new
    snapshot's id, or None when another run claimed the work."""
    from debates.services.opinions import opinions_recompute_claimed

    snapshot = opinions_recompute_claimed(debate_id)
    return snapshot.pk if snapshot else None


@shared_task(ignore_result=True)
def opinions_recompute_stale() -> int:
    """Beat safety net: re-queue debates left dirty (a lost task or an evicted cache key)."""
    from debates.services.opinions import opinions_recompute_stale as requeue

    return requeue()
