"""Bypass the database's append-only triggers, as an attacker with table-owner rights could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

SQLITE_TRIGGERS = [
    "identity_auditentry_no_delete",
    "identity_auditentry_no_update",
    "identity_auditcheckpoint_no_delete",
    "identity_auditcheckpoint_no_update",
]


@contextmanager
def triggers_disabled() -> Iterator[None]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending in this transaction would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE identity_auditentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE identity_auditcheckpoint DISABLE TRIGGER USER")
        else:
            saved = dict(
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                    f"({','.join('?' * len(SQLITE_TRIGGERS))})",
                    SQLITE_TRIGGERS,
                ).fetchall()
            )
            for name in saved:
                cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE identity_auditentry ENABLE TRIGGER USER")
                cursor.execute("ALTER TABLE identity_auditcheckpoint ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                for sql in saved.values():
                    cursor.execute(sql)
