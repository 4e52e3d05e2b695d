"""Shared fixtures, and the rule that a test needing a real service either gets it or says why not.

With MEBUKU_REQUIRE_SERVICES=1 (CI) a missing PostgreSQL, Redis, Chromium or Node.js (or an npm
package a test names) fails the test instead of skipping it, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from identity.models import Municipality
from identity.selectors import municipality_cache_clear as clear_cache
from tests.factories import MunicipalityFactory

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"


def _redis_available() -> str | None:
    if not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL (CI does)"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        return f"needs Redis at REDIS_URL, which is unreachable: {error}"
    return None


def _node_available(packages: tuple[Path | str, ...]) -> str | None:
    if shutil.which("node") is None:
        return "needs Node.js: `node` is not on PATH"
    for package in packages:
        folder = ROOT / package
        if not folder.is_dir():
            return f"needs the npm package {folder.relative_to(ROOT)} (make install runs npm ci)"
    return None


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL (CI does); SQLite cannot run this"
    if item.get_closest_marker("redis") and (reason := _redis_available()):
        return reason
    if item.get_closest_marker("browser"):
        if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
            return "needs Debian's chromium (apt-get install chromium)"
        if not AXE_JS.exists():
            return "needs axe-core (npm ci)"
    node = item.get_closest_marker("node")
    if node is not None and (reason := _node_available(node.args)):
        return reason
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_service(item)
    if reason is None:
        return
    if os.environ.get("MEBUKU_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_municipality_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True)
def _site_language() -> Iterator[None]:
    """A request leaves the language LocaleMiddleware chose active in the thread (an English
    API client's, say); every test starts in the site's language instead of the last one's."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session, which async tests (Channels consumers) cannot share."""
    browser_dir = Path(__file__).resolve().parent / "browser"
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None
            or browser_dir in item.path.resolve().parents
        )
    )


class RedisServer:
    """A redis-server of this test alone (never the shared one), which the test may stop and
    start again to play an outage."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def queued_tasks(self, name: str) -> int:
        """Tasks of this name waiting on this broker (Celery's default queue, a Redis list)."""
        import json

        import redis

        client = redis.Redis.from_url(self.url)
        try:
            bodies = client.lrange("celery", 0, -1)
        finally:
            client.close()
        return sum(json.loads(body)["headers"]["task"] == name for body in bodies)


def channel_messages(layer: Any, channel: str) -> list[dict[str, Any]]:
    """Everything waiting for `channel` on a channel layer (until 0.3 s pass without one)."""
    import asyncio

    from asgiref.sync import async_to_sync

    async def drain() -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
            except TimeoutError:
                return messages

    return async_to_sync(drain)()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server, started; stopped at the end whatever the test did."""
    if shutil.which("redis-server") is None:
        reason = "needs redis-server on PATH (apt-get install redis-server)"
        if os.environ.get("MEBUKU_REQUIRE_SERVICES") == "1":
            pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_services(own_redis: RedisServer) -> Iterator[RedisServer]:
    """The site wired to `own_redis` as production wires it to Redis (base settings): the
    django-redis cache, the Redis channel layer and a real Celery broker (no eager tasks)."""
    from django.test import override_settings

    from config.celery import app

    overrides = override_settings(
        CACHES={
            "default": {
                "BACKEND": "config.cache.OutageTolerantRedisCache",
                "LOCATION": own_redis.url,
                "OPTIONS": settings.CACHES_REDIS_OPTIONS,
            }
        },
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [own_redis.url]},
            }
        },
        CELERY_TASK_ALWAYS_EAGER=False,
    )
    from identity.outbox import outbox_nudges_settle

    def forget_broker_connections() -> None:
        # Celery has no public way to re-point a configured app at another broker: drop its
        # pooled connections (as it does itself after a fork) so the next publish connects anew.
        app._pool = None
        app.amqp._producer_pool = None

    conf = app.conf
    before = (conf.broker_url, conf.task_always_eager, conf.broker_transport_options)
    forget_broker_connections()
    # An unreachable broker refuses a publish in well under a second (kombu retries for ~6 s).
    conf.broker_url, conf.task_always_eager = own_redis.url, False
    conf.broker_transport_options = {"max_retries": 0}
    with overrides:
        yield own_redis
        outbox_nudges_settle()
    forget_broker_connections()
    conf.broker_url, conf.task_always_eager, conf.broker_transport_options = before


@pytest.fixture
def town(db: None) -> Municipality:
    """The municipality most tests happen in (a test folder may define its own)."""
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
