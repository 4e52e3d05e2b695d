"""Shared fixtures, and the rule that a test needing a real service either gets it or says why not.

With MEBUKU_REQUIRE_SERVICES=1 (CI) a missing PostgreSQL, Redis, Chromium or Node.js (or an npm
package a test names) fails the test instead of skipping it, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from identity.selectors import municipality_cache_clear as clear_cache

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
