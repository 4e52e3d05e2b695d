"""Workers survive Redis restarts (issue 14, point 3).

A real `celery worker` and `celery beat` (production settings, the command line of
docs/operations.md) run against a redis-server of this test, which is restarted three times while
the test keeps sending tasks. Afterwards the worker and beat must still be running, the worker must
still consume (audit entries written after each restart get sealed) and beat must still schedule
(a heartbeat it sent after the last restart reached the worker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from config.celery import WORKER_ARGS, app
from identity.audit import audit_record
from identity.health import HEARTBEAT_KEY
from identity.models import AuditEntry
from tests.conftest import RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CELERY = str(Path(sys.executable).with_name("celery"))
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(what: str, condition: Callable[[], bool], seconds: float, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"{what} within {seconds:.0f} s\n{_tail(logs / 'worker.log')}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _sealed_soon(logs: Path, seconds: float, what: str) -> None:
    with transaction.atomic():
        entry = audit_record(actor=None, municipality=None, action="faults.worker_probe")
    _wait_for(
        what,
        lambda: AuditEntry.objects.filter(pk=entry.pk, seq__isnull=False).exists(),
        seconds,
        logs,
    )


@pytest.fixture
def processes(redis_services: RedisServer, tmp_path: Path) -> Iterator[dict[str, object]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_services.url,
        "DJANGO_SECRET_KEY": "faults-test-only-secret-key-0123456789abcdefghijklmnopqrstuv",
        "MEBUKU_IDENTITY_HMAC_KEY": "faults-test-only",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "MEBUKU_LOG_FORMAT": "text",
    }
    started: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in {
        "worker": [
            *("worker", "--concurrency", "2", "--loglevel", "WARNING"),
            *("--include", "tests.faults.tasks", *WORKER_ARGS),
        ],
        "beat": ["beat", "--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")],
    }.items():
        with (tmp_path / f"{name}.log").open("wb") as log:
            started[name] = subprocess.Popen(
                [CELERY, "-A", "config", *command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    try:
        yield {"redis": redis_services, "logs": tmp_path, **started}
    finally:
        for process in started.values():
            process.terminate()
        for process in started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def test_worker_and_beat_survive_three_redis_restarts_under_load(
    processes: dict[str, object],
) -> None:
    redis = processes["redis"]
    worker, beat, logs = processes["worker"], processes["beat"], processes["logs"]
    assert isinstance(redis, RedisServer) and isinstance(logs, Path)
    assert isinstance(worker, subprocess.Popen) and isinstance(beat, subprocess.Popen)

    # Load: 0.1 s tasks at about 25 per second, more than two processes run, so the worker is busy
    # and holds unacknowledged deliveries (late acks) whenever Redis goes away: when the crash and
    # the silent stop happened. Publishing fails while Redis is down, and is retried.
    sent, stop = [0], threading.Event()

    def send() -> None:
        while not stop.is_set():
            try:
                app.send_task("tests.faults.tasks.nap", args=[0.1])
                sent[0] += 1
            except Exception:  # the broker is down: keep trying, as the site does
                time.sleep(0.2)
            time.sleep(0.04)

    sender = threading.Thread(target=send, daemon=True)
    try:
        _sealed_soon(logs, 40, "the worker did not start consuming")
        sender.start()
        for restart in range(1, 4):
            redis.stop()
            time.sleep(2)
            redis.start()
            restarted_at = time.time()
            assert worker.poll() is None, f"worker exited after restart {restart}:\n" + _tail(
                logs / "worker.log"
            )
            _sealed_soon(logs, 25, f"the worker stopped consuming after restart {restart}")
        stop.set()
        # Only beat sends the heartbeat (every 15 s): one newer than the last restart proves that
        # beat still schedules and the worker still runs what it sends.
        _wait_for(
            "no heartbeat from beat through the worker after the last restart",
            lambda: float(cache.get(HEARTBEAT_KEY) or 0) > restarted_at,
            30,
            logs,
        )
    finally:
        stop.set()
        sender.join(timeout=5)
    assert worker.poll() is None and beat.poll() is None
    assert sent[0] > 100, sent
    assert "Unrecoverable error" not in (logs / "worker.log").read_text(errors="replace")
