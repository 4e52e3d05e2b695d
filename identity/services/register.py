"""Importing the resident register: the municipality's staff upload it, residents match against it.

The file is read and checked before any lock is taken (that is the slow part); the write is one
transaction under the municipality's row lock, so two imports of one municipality serialise and
each finds the register the other left. Only keyed hashes are stored (identity.register).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import audit_record
from identity.errors import InvalidInput
from identity.keys import identity_hash
from identity.models import (
    EndReason,
    Municipality,
    RegisterEntry,
    ResidentRegister,
    User,
    Verification,
    VerificationMethod,
)
from identity.register import RegisterRow, RowError, parse_register

INSERT_BATCH = 5000
UPDATE_BATCH = 900  # primary keys per UPDATE … WHERE id IN (…): below SQLite's parameter limit


@dataclass(frozen=True)
class ImportReport:
    """What an import found and did. `errors` lists every bad line; then nothing was changed."""

    dry_run: bool
    reference_date: date
    encoding: str = ""
    rows: int = 0
    errors: tuple[RowError, ...] = ()
    kept: int = 0  # active register verifications whose person is in the new register
    moved_out: int = 0  # … and those that end (or would end) as moved out
    register: ResidentRegister | None = None  # the new current register, once imported
    previous: ResidentRegister | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def applied(self) -> bool:
        return self.register is not None

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})

    def bad_rows(self, limit: int | None = None) -> list[tuple[int, list[RowError]]]:
        """The errors grouped by line, in line order; the first `limit` lines only."""
        grouped: dict[int, list[RowError]] = {}
        for error in self.errors:
            if error.line not in grouped and limit is not None and len(grouped) >= limit:
                break
            grouped.setdefault(error.line, []).append(error)
        return list(grouped.items())


def _batches(items: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _active_register_verifications(municipality: Municipality) -> list[tuple[int, str]]:
    return list(
        Verification.objects.filter(
            municipality=municipality, method=VerificationMethod.REGISTER, ended_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", "identity_hash")
    )


def _moved_out(active: list[tuple[int, str]], rows: list[RegisterRow]) -> list[int]:
    """Verifications whose register key is not in the new register.

    A register verification's identity_hash is identity_hash("register", entry.key_hash)
    (services.verification._open hashes the entry's key hash as its identity key).
    """
    if not active:
        return []
    method = VerificationMethod.REGISTER.value
    present = {identity_hash(method, row.key_hash) for row in rows}
    return [pk for pk, hashed in active if hashed not in present]


def _insert_entries(register: ResidentRegister, rows: list[RegisterRow]) -> None:
    """Insert the entries: COPY on PostgreSQL (several times faster), batched INSERTs elsewhere."""
    if connection.vendor == "postgresql":
        meta = RegisterEntry._meta
        column_of = {field.name: str(field.column) for field in meta.concrete_fields}
        columns = ", ".join(
            connection.ops.quote_name(column_of[name])
            for name in ("register", "key_hash", "person_hash", "resident_since")
        )
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row((register.pk, row.key_hash, row.person_hash, row.resident_since))
        return
    RegisterEntry.objects.bulk_create(
        (
            RegisterEntry(
                register=register,
                key_hash=row.key_hash,
                person_hash=row.person_hash,
                resident_since=row.resident_since,
            )
            for row in rows
        ),
        batch_size=INSERT_BATCH,
    )


def register_import(
    *,
    actor: User,
    municipality: Municipality,
    data: bytes,
    reference_date: date,
    dry_run: bool,
) -> ImportReport:
    """Check a register file and, unless `dry_run` or a row is bad, make it the current register.

    A bad row (or a dry run) changes nothing: no register, no verification, no audit entry.
    """
    permissions.require(permissions.can_manage_register(actor, municipality))
    if reference_date > timezone.localdate():
        raise InvalidInput(
            _("The reference date of the register cannot be in the future."),
            code="reference_date_future",
        )
    parsed = parse_register(
        data, municipality_name=municipality.name, reference_date=reference_date
    )
    report = ImportReport(
        dry_run=dry_run,
        reference_date=reference_date,
        encoding=parsed.encoding,
        rows=len(parsed.rows),
        errors=tuple(parsed.errors),
    )
    if not parsed.ok:
        return report
    if dry_run:
        active = _active_register_verifications(municipality)
        moved = _moved_out(active, parsed.rows)
        previous = ResidentRegister.objects.filter(
            municipality=municipality, is_current=True
        ).first()
        return ImportReport(
            dry_run=True,
            reference_date=reference_date,
            encoding=parsed.encoding,
            rows=len(parsed.rows),
            kept=len(active) - len(moved),
            moved_out=len(moved),
            previous=previous,
        )
    return _replace_register(
        actor=actor,
        municipality=municipality,
        rows=parsed.rows,
        reference_date=reference_date,
        encoding=parsed.encoding,
    )


@transaction.atomic(durable=True)
def _replace_register(
    *,
    actor: User,
    municipality: Municipality,
    rows: list[RegisterRow],
    reference_date: date,
    encoding: str,
) -> ImportReport:
    # One import per municipality at a time; the roles are judged again under the lock.
    Municipality.objects.select_for_update().get(pk=municipality.pk)
    permissions.forget_roles(actor)
    permissions.require(permissions.can_manage_register(actor, municipality))
    now = timezone.now()
    previous = (
        ResidentRegister.objects.select_for_update()
        .filter(municipality=municipality, is_current=True)
        .first()
    )
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
        # Only the current register's hashes are kept (no signals, no cascades: one DELETE).
        RegisterEntry.objects.filter(register=previous).delete()
    register = ResidentRegister(
        municipality=municipality,
        reference_date=reference_date,
        imported_at=now,
        imported_by=actor,
        row_count=len(rows),
        is_current=True,
    )
    register.save(force_insert=True)
    _insert_entries(register, rows)
    active = _active_register_verifications(municipality)
    moved = _moved_out(active, rows)
    for batch in _batches(moved, UPDATE_BATCH):
        Verification.objects.filter(pk__in=batch, ended_at__isnull=True).update(
            ended_at=now, ended_by=actor, end_reason=EndReason.MOVED_OUT
        )
    if moved:
        audit_record(
            actor=actor,
            municipality=municipality,
            action="verification.register_moved_out",
            target=register,
            data={"count": len(moved), "verifications": moved, "register": register.pk},
        )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="register.import",
        target=register,
        data={
            "rows": len(rows),
            "reference_date": reference_date.isoformat(),
            "encoding": encoding,
            "previous_register": previous.pk if previous is not None else None,
            "verifications_kept": len(active) - len(moved),
            "verifications_moved_out": len(moved),
        },
    )
    return ImportReport(
        dry_run=False,
        reference_date=reference_date,
        encoding=encoding,
        rows=len(rows),
        kept=len(active) - len(moved),
        moved_out=len(moved),
        register=register,
        previous=previous,
    )
