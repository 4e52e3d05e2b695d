from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from identity.audit import (
    AuditItem,
    audit_record,
    audit_record_many,
    audit_seal,
    audit_verify,
    chain_of,
    entry_hash,
)
from identity.models import AuditCheckpoint, AuditEntry, Municipality, User
from tests.identity.audit_tamper import triggers_disabled

pytestmark = pytest.mark.django_db


def _record(municipality: Municipality, actor: User | None, n: int) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        with transaction.atomic():
            entries.append(
                audit_record(
                    actor=actor,
                    municipality=municipality,
                    action="test.event",
                    data={"i": i, "note": "日本語 ok"},
                )
            )
    return entries


def test_record_needs_the_callers_transaction(maebashi: Municipality) -> None:
    # pytest-django wraps the test in a transaction; leave it to prove the guard.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            audit_record(actor=None, municipality=maebashi, action="x")
    finally:
        connection.in_atomic_block = saved


def test_seal_links_entries_into_a_chain_per_municipality(
    maebashi: Municipality, kamakura: Municipality, resident: User
) -> None:
    _record(maebashi, resident, 3)
    _record(kamakura, None, 2)
    audit_seal()
    for municipality in (maebashi, kamakura):
        chain = list(AuditEntry.objects.filter(chain=chain_of(municipality)).order_by("seq"))
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        for before, after in pairwise(chain):
            assert after.prev_hash == before.chain_hash
        head = AuditCheckpoint.objects.filter(chain=chain_of(municipality)).order_by("-seq").first()
        assert head is not None and head.head_hash == chain[-1].chain_hash
    assert audit_verify() == []


def test_seal_is_idempotent_and_extends_the_chain(maebashi: Municipality) -> None:
    _record(maebashi, None, 2)
    first = audit_seal()
    assert audit_seal() == 0
    _record(maebashi, None, 1)
    assert audit_seal() == 1
    assert first >= 2
    last = AuditEntry.objects.filter(chain=chain_of(maebashi)).order_by("-seq").first()
    assert last is not None and last.data == {"i": 0, "note": "日本語 ok"}
    assert audit_verify() == []


def test_record_many_writes_what_record_writes_one_by_one(
    maebashi: Municipality, kamakura: Municipality, resident: User
) -> None:
    items = [
        AuditItem(resident, maebashi, "test.bulk", kamakura, {"i": 1, "note": "日本語 ok"}),
        AuditItem(None, kamakura, "test.bulk", None, {"when": maebashi.pk}),
        AuditItem(resident, None, "test.bulk"),
    ]
    with transaction.atomic():
        many = audit_record_many(items)
        one_by_one = [
            audit_record(
                actor=i.actor,
                municipality=i.municipality,
                action=i.action,
                target=i.target,
                data=i.data,
            )
            for i in items
        ]
    fields = ["chain", "municipality_id", "actor_id", "action", "target_type", "target_id", "data"]
    stored = {e.pk: e for e in AuditEntry.objects.filter(action="test.bulk")}
    assert len(stored) == 6
    for bulk, single in zip(many, one_by_one, strict=True):
        assert bulk.pk is not None
        saved = stored[bulk.pk]
        assert [getattr(saved, f) for f in fields] == [getattr(single, f) for f in fields]
        assert saved.entry_hash == entry_hash(saved) == bulk.entry_hash
    assert audit_seal() >= 6
    assert audit_verify() == []
    with transaction.atomic():
        assert audit_record_many([]) == []


def test_record_many_needs_the_callers_transaction(maebashi: Municipality) -> None:
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            audit_record_many([AuditItem(None, maebashi, "x")])
    finally:
        connection.in_atomic_block = saved


@pytest.mark.postgres
def test_database_refuses_edits_and_deletes(maebashi: Municipality) -> None:
    entry = _record(maebashi, None, 1)[0]
    audit_seal()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.event"


def _sealed(maebashi: Municipality, n: int = 5) -> list[AuditEntry]:
    _record(maebashi, None, n)
    audit_seal()
    return list(AuditEntry.objects.filter(chain=chain_of(maebashi)).order_by("seq"))


def test_edited_entry_is_detected_and_named(maebashi: Municipality) -> None:
    entries = _sealed(maebashi)
    with triggers_disabled():
        AuditEntry.objects.filter(pk=entries[2].pk).update(data={"i": 99})
    breaks = audit_verify()
    assert [(b.entry_id, b.seq) for b in breaks] == [(entries[2].pk, 3)]
    assert "edited" in breaks[0].problem


def test_edit_with_recomputed_entry_hash_breaks_the_link(maebashi: Municipality) -> None:
    entries = _sealed(maebashi)
    forged = entries[1]
    forged.data = {"i": 42}
    with triggers_disabled():
        AuditEntry.objects.filter(pk=forged.pk).update(
            data=forged.data, entry_hash=entry_hash(forged)
        )
    breaks = audit_verify()
    assert [b.entry_id for b in breaks] == [forged.pk]


def test_deleted_entry_is_detected(maebashi: Municipality) -> None:
    entries = _sealed(maebashi)
    with triggers_disabled():
        AuditEntry.objects.filter(pk=entries[1].pk).delete()
    breaks = audit_verify()
    assert len(breaks) == 1
    assert breaks[0].entry_id == entries[2].pk
    assert "missing" in breaks[0].problem


def test_reordered_entries_are_detected(maebashi: Municipality) -> None:
    entries = _sealed(maebashi)
    a, b = entries[1], entries[2]
    with triggers_disabled():
        AuditEntry.objects.filter(pk=a.pk).update(seq=10**9)
        AuditEntry.objects.filter(pk=b.pk).update(seq=a.seq)
        AuditEntry.objects.filter(pk=a.pk).update(seq=b.seq)
    breaks = audit_verify()
    assert len(breaks) == 1
    assert breaks[0].entry_id == b.pk
    assert "link" in breaks[0].problem


def test_truncated_tail_is_detected_by_the_checkpoint(maebashi: Municipality) -> None:
    entries = _sealed(maebashi)
    with triggers_disabled():
        AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    breaks = audit_verify()
    assert len(breaks) == 1
    assert "checkpoint" in breaks[0].problem


def test_unsealed_edit_is_detected_and_sealing_refuses_it(maebashi: Municipality) -> None:
    entry = _record(maebashi, None, 1)[0]
    with triggers_disabled():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    assert [b.entry_id for b in audit_verify()] == [entry.pk]
    from identity.audit import SealRefused

    with pytest.raises(SealRefused):
        audit_seal()


def test_audit_verify_command_exit_status(
    maebashi: Municipality, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = _sealed(maebashi)
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out
    with triggers_disabled():
        AuditEntry.objects.filter(pk=entries[0].pk).update(action="forged")
    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert f"entry {entries[0].pk}" in capsys.readouterr().err


def test_verify_fails_when_entries_wait_too_long_for_their_seal(
    maebashi: Municipality, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sealer that stopped (the worker died, Redis was down) is a failure, not "intact"."""
    from identity.audit import audit_seal_backlog

    _sealed(maebashi)
    _record(maebashi, None, 2)  # unsealed
    call_command("audit_verify")  # within the default grace period
    assert "intact" in capsys.readouterr().out
    assert audit_seal_backlog() == 0
    assert audit_seal_backlog(older_than_seconds=0) == 2
    with pytest.raises(CommandError, match="2 audit entries unsealed for more than 0 s"):
        call_command("audit_verify", "--seal-grace", "0")
    audit_seal()
    call_command("audit_verify", "--seal-grace", "0")
    assert "intact" in capsys.readouterr().out
