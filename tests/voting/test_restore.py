"""A backup restores whole (docs/operations.md): pg_dump of a database with sealed audit chains
and a published election, restored into a fresh database, passes `manage.py restore_verify`;
the same check fails on a restored record that was altered."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from identity.audit import audit_seal
from tests.voting.conftest import NO, YES, Scenario

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _pg(*args: str) -> list[str]:
    params = connection.settings_dict
    return [
        *args,
        "--host",
        params["HOST"] or "127.0.0.1",
        "--port",
        str(params["PORT"] or 5432),
        "--username",
        params["USER"] or "postgres",
    ]


@pytest.fixture
def restored(tmp_path: Path) -> Iterator[str]:
    """A fresh database's name; dropped afterwards."""
    name = f"mebuku_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(_pg("createdb", name), check=True)
    yield name
    subprocess.run(_pg("dropdb", "--if-exists", name), check=True)


def _restore_verify(database: str) -> subprocess.CompletedProcess[str]:
    params = connection.settings_dict
    url = (
        f"postgres://{params['USER'] or 'postgres'}@{params['HOST'] or '127.0.0.1'}:"
        f"{params['PORT'] or 5432}/{database}"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.run(
        [sys.executable, "manage.py", "restore_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_dump_restores_into_a_fresh_database_and_verifies(
    scenario: Scenario, restored: str, tmp_path: Path
) -> None:
    s = scenario
    s.cast(s.voters[0], YES)
    s.cast(s.voters[1], NO)
    s.close_and_decrypt()
    audit_seal()
    dump = tmp_path / "mebuku.dump"
    source = connection.settings_dict["NAME"]
    subprocess.run(_pg("pg_dump", "--format=custom", "--file", str(dump), source), check=True)
    subprocess.run(_pg("pg_restore", "--no-owner", "--dbname", restored, str(dump)), check=True)

    done = _restore_verify(restored)
    assert done.returncode == 0, done.stderr
    assert "audit chains intact; 1 election record(s) verified" in done.stdout

    # The check is not a formality: a record altered after publication is caught.
    subprocess.run(
        _pg(
            "psql",
            "--dbname",
            restored,
            "--command",
            "UPDATE voting_result SET record = jsonb_set(record::jsonb, '{title}', '\"forged\"')",
        ),
        check=True,
        capture_output=True,
    )
    forged = _restore_verify(restored)
    assert forged.returncode != 0
    assert "does not match its published SHA-256" in forged.stderr
