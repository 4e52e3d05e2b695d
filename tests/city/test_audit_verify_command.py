"""Issue 15, defect 10: `manage.py audit_verify` says which database it reads and, with none,
fails with a sentence instead of creating an empty SQLite file and printing a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _run(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(  # nosec B603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_sqlite_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "db.sqlite3"
    result = _run(f"sqlite:///{missing}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"SQLite file {missing} does not exist" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert not missing.exists()


def test_empty_sqlite_file_fails_with_a_sentence(tmp_path: Path) -> None:
    empty = tmp_path / "db.sqlite3"
    empty.touch()
    result = _run(f"sqlite:///{empty}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Cannot read the audit log in the SQLite file {empty}" in result.stderr


@pytest.mark.django_db
def test_names_the_database_it_checked() -> None:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    text = out.getvalue()
    assert f"{connection.settings_dict['NAME']}" in text and "audit log intact" in text
    assert str(connection.settings_dict.get("PASSWORD") or "\0") not in text
