"""Issue 15, defect 10: the README's paths and promises, and `make run`'s beat schedule file."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_verification_paths_carry_the_municipality_prefix() -> None:
    paths = re.findall(r"`([^`\s]*/(?:verify|verification)/[^`\s]*)`", README)
    assert paths, "the README names the verification pages"
    assert all(path.startswith("/m/<slug>/") or path.startswith("/m/maebashi/") for path in paths)


def test_readme_says_where_emails_go_and_which_database_audit_verify_reads() -> None:
    assert "printed to the console" in README and "`make run`" in README
    section = README[README.index("## Audit log") :]
    assert "DATABASE_URL" in section and "db.sqlite3" in section


def test_beat_schedule_lives_in_the_checkout() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("needs make")
    dry = subprocess.run(  # nosec B603 (make -n only prints the recipe)
        [make, "-n", "run"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    schedules = re.findall(r"--schedule=(\S+?);", dry)
    assert schedules == ["var/celerybeat-schedule"]
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "/var/" in ignored
