"""The audit log: append in the writer's transaction, seal into hash chains later, verify.

Writers never touch a shared row (an INSERT only), so the log does not serialise the site. A sealer
(Celery beat, every few seconds) gives committed entries their place in the chain of their
municipality: `seq`, the previous chain hash and their own chain hash, then records a
checkpoint of the head. See docs/decisions.md, "Audit log without a hot row".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from identity.models import AuditCheckpoint, AuditEntry, Municipality, User
from identity.outbox import outbox_add, outbox_handler

GENESIS = "0" * 64


def chain_of(municipality: Municipality | None) -> str:
    return f"m{municipality.pk}" if municipality is not None else AuditEntry.SITE_CHAIN


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_content(entry: AuditEntry) -> dict[str, Any]:
    """Everything an entry says, in the form its hash covers."""
    return {
        "chain": entry.chain,
        "municipality": entry.municipality_id,
        "actor": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "data": entry.data,
        "created_at": entry.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry_content(entry))).hexdigest()


def link_hash(prev_hash: str, this_entry_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{this_entry_hash}".encode()).hexdigest()


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _new_entry(
    actor: User | None,
    municipality: Municipality | None,
    action: str,
    target: models.Model | None,
    data: dict[str, Any] | None,
) -> AuditEntry:
    # Round-trip through JSON so the hash covers exactly what the database will give back.
    payload = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    entry = AuditEntry(
        chain=chain_of(municipality),
        municipality=municipality,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=payload,
        created_at=timezone.now(),
    )
    entry.entry_hash = entry_hash(entry)
    return entry


def _after_append() -> None:
    if settings.AUDIT_SEAL_AFTER_COMMIT:
        from identity.tasks import audit_seal_task

        # robust: sealing is not the change; a failed seal is retried by the next one.
        transaction.on_commit(audit_seal_task.delay, robust=True)


def audit_record(
    *,
    actor: User | None,
    municipality: Municipality | None,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction; the change and its entry commit together."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    entry = _new_entry(actor, municipality, action, target, data)
    entry.save(force_insert=True)
    _after_append()
    return entry


@dataclass(frozen=True)
class AuditItem:
    """One entry for audit_record_many: the arguments audit_record takes."""

    actor: User | None
    municipality: Municipality | None
    action: str
    target: models.Model | None = None
    data: dict[str, Any] | None = None


def audit_record_many(items: Sequence[AuditItem]) -> list[AuditEntry]:
    """audit_record for many changes of one transaction in one INSERT: the entries are exactly
    those audit_record would write one by one (same fields, same hashes), in this order."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    entries = [
        _new_entry(item.actor, item.municipality, item.action, item.target, item.data)
        for item in items
    ]
    if entries:
        AuditEntry.objects.bulk_create(entries)
        _after_append()
    return entries


def audit_seal(*, batch_size: int = 5000) -> int:
    """Seal every committed, unsealed entry into its chain. Returns how many were sealed."""
    chains = AuditEntry.objects.filter(seq__isnull=True).values_list("chain", flat=True).distinct()
    total = 0
    for chain in list(chains):
        while True:
            sealed = _seal_batch(chain, batch_size)
            total += sealed
            if sealed < batch_size:
                break
    return total


class SealRefused(Exception):
    """An unsealed entry no longer matches its own hash: sealing it would bless a forgery."""


@transaction.atomic
def _seal_batch(chain: str, batch_size: int) -> int:
    if _is_postgres():
        with connection.cursor() as cursor:
            # One sealer per chain at a time; writers never take this lock.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"audit_seal:{chain}"])
    # Only committed entries are visible here. One whose transaction commits later (even with a
    # lower id) is still unsealed then and joins the chain in a later batch: never skipped.
    pending = AuditEntry.objects.filter(chain=chain, seq__isnull=True).order_by("id")
    entries = list(pending[:batch_size])
    if not entries:
        return 0
    head = (
        AuditEntry.objects.filter(chain=chain, seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "chain_hash")
        .first()
    )
    seq, prev = (head[0] or 0, head[1]) if head is not None else (0, GENESIS)
    for entry in entries:
        if entry_hash(entry) != entry.entry_hash:
            raise SealRefused(
                f"audit entry {entry.pk} does not match its hash; not sealing {chain}"
            )
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev
        entry.chain_hash = link_hash(prev, entry.entry_hash)
        prev = entry.chain_hash
    AuditEntry.objects.bulk_update(entries, ["seq", "prev_hash", "chain_hash"], batch_size=1000)
    AuditCheckpoint.objects.create(chain=chain, seq=seq, head_hash=prev)
    if chain != AuditEntry.SITE_CHAIN:
        outbox_add(AUDIT_SEALED, {"chain": chain, "count": len(entries), "seq": seq})
    return len(entries)


AUDIT_SEALED = "identity.audit_sealed"


@outbox_handler(AUDIT_SEALED, coalesce=True)
def _announce_sealed(payload: dict[str, Any]) -> None:
    """One message per sealed batch (not per entry) tells open audit pages to offer a reload."""
    from identity.consumers import audit_group

    layer = get_channel_layer()
    if layer is not None:
        group = audit_group(int(str(payload["chain"]).removeprefix("m")))
        message = {"type": "audit.sealed", "count": payload["count"], "seq": payload["seq"]}
        async_to_sync(layer.group_send)(group, message)


@dataclass(frozen=True)
class ChainBreak:
    chain: str
    entry_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else "chain"
        return f"{self.chain}: {where} (seq {self.seq}): {self.problem}"


def _chains() -> list[str]:
    entry_chains = set(AuditEntry.objects.values_list("chain", flat=True).distinct())
    checkpoint_chains = set(AuditCheckpoint.objects.values_list("chain", flat=True).distinct())
    return sorted(entry_chains | checkpoint_chains)


def audit_verify(chains: Iterable[str] | None = None) -> list[ChainBreak]:
    """Check every chain end to end; return the breaks found (empty when the log is intact)."""
    breaks: list[ChainBreak] = []
    for chain in chains if chains is not None else _chains():
        breaks.extend(_verify_chain(chain))
    return breaks


# The sealer runs every 5 s (CELERY_BEAT_SCHEDULE); an entry older than this many seconds and
# still unsealed means the sealer is not running (or not keeping up): a failure, not a delay.
SEAL_GRACE_SECONDS = 60


def audit_seal_backlog(*, older_than_seconds: float | None = None) -> int:
    """How many committed entries have waited longer than `older_than_seconds` (default
    SEAL_GRACE_SECONDS) for their seal (through the partial index on unsealed entries)."""
    grace = SEAL_GRACE_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    return AuditEntry.objects.filter(seq__isnull=True, created_at__lt=cutoff).count()


def _verify_chain(chain: str) -> Iterator[ChainBreak]:
    checkpoints = dict(AuditCheckpoint.objects.filter(chain=chain).values_list("seq", "head_hash"))
    expected_seq, prev = 1, GENESIS
    sealed = AuditEntry.objects.filter(chain=chain, seq__isnull=False).order_by("seq")
    for entry in sealed.iterator(chunk_size=2000):
        assert entry.seq is not None
        if entry.seq != expected_seq:
            yield ChainBreak(
                chain, entry.pk, entry.seq, f"entries {expected_seq}–{entry.seq - 1} are missing"
            )
            return
        if entry_hash(entry) != entry.entry_hash:
            yield ChainBreak(chain, entry.pk, entry.seq, "content does not match its hash (edited)")
            return
        if entry.prev_hash != prev:
            yield ChainBreak(
                chain,
                entry.pk,
                entry.seq,
                "does not link to the entry before it (moved or removed)",
            )
            return
        if link_hash(prev, entry.entry_hash) != entry.chain_hash:
            yield ChainBreak(chain, entry.pk, entry.seq, "chain hash does not recompute")
            return
        published = checkpoints.pop(entry.seq, None)
        if published is not None and published != entry.chain_hash:
            yield ChainBreak(chain, entry.pk, entry.seq, "differs from the published checkpoint")
            return
        prev, expected_seq = entry.chain_hash, expected_seq + 1
    if checkpoints:
        last = max(checkpoints)
        yield ChainBreak(
            chain, None, last, f"checkpoint at seq {last} but the chain ends at {expected_seq - 1}"
        )
        return
    for entry in AuditEntry.objects.filter(chain=chain, seq__isnull=True).iterator():
        if entry_hash(entry) != entry.entry_hash:
            yield ChainBreak(chain, entry.pk, None, "content does not match its hash (edited)")


def chain_head(chain: str) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
