"""Bypass the database's append-only triggers, as an attacker with table-owner rights could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def triggers_disabled() -> Iterator[None]:
    if connection.vendor != "postgresql":  # the triggers exist on PostgreSQL only
        yield
        return
    with connection.cursor() as cursor:
        # Deferred foreign-key checks pending in this transaction would block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE identity_auditentry DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE identity_auditcheckpoint DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE identity_auditentry ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE identity_auditcheckpoint ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
