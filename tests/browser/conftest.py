"""Browser tests: Debian's Chromium driven through Playwright's sync API, axe-core on every page.

Every page a test reaches goes through `CheckedPage`: `goto()` and `submit()` wait for the new
document, run axe-core on it (WCAG 2.0/2.1 A and AA rules) and fail with a readable list when a
violation is serious or critical, then save a full-page screenshot under
`tests/browser/screenshots/<test>/NN-<slug>.png`. A `load` listener counts every document the page
loads; a document that was never checked (say a raw `page.click()` that navigated) fails the test
at teardown, so the axe check cannot be forgotten.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.core import mail
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

from identity.models import Municipality, Role, User
from tests.conftest import AXE_JS, CHROMIUM
from tests.factories import PASSWORD, MunicipalityFactory, UserFactory, grant, staff

HOME = "/m/maebashi/"
MAIN_SUBMIT = "main form button[type=submit]"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium waits on the network for updates and sync, which is closed here.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
DEFAULT_TIMEOUT_MS = 10_000

# With JavaScript disabled the page's timers never fire, and axe waits on setTimeout; run its
# callbacks as microtasks instead (only in such contexts: the page's own scripts are off anyway).
_INJECT_AXE = """([source, timersOff]) => {
  if (timersOff) {
    window.setTimeout = (fn, _ms, ...args) => {
      Promise.resolve().then(() => fn(...args));
      return 0;
    };
    window.clearTimeout = () => {};
  }
  if (!window.axe) { (0, eval)(source); }
}"""
_RUN_AXE = """async (tags) => {
  const results = await window.axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    id: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def describe(self) -> str:
        shown = ", ".join(self.targets[:5]) + (" …" if len(self.targets) > 5 else "")
        return (
            f"  [{self.impact}] {self.id}: {self.help}\n"
            f"      on: {shown}\n"
            f"      see {self.help_url}"
        )


@dataclass
class CheckedPage:
    """A Playwright page whose every document is checked by axe-core and photographed."""

    page: Page
    base_url: str
    axe_source: str
    screenshot_dir: Path
    counter: Callable[[], int]
    javascript: bool = True
    checked_urls: list[str] = field(default_factory=list)
    findings: list[tuple[str, Violation]] = field(default_factory=list)
    _loads: list[str] = field(default_factory=list)
    _checked_loads: set[int] = field(default_factory=set)

    blocked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("load", lambda page: self._loads.append(page.url))
        # What the Content-Security-Policy blocked (an inline script or style, a foreign source):
        # Chromium reports each on the console; any fails the check of that page.
        self.page.on(
            "console",
            lambda message: (
                self.blocked.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

    # Navigation: each of these ends with `check()`.

    def goto(self, path: str, *, status: int = 200) -> Response:
        response = self.page.goto(path)
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        self.check()
        return response

    def submit(self, target: Locator | str) -> None:
        """Click a submit button or link and wait for (and check) the page it leads to."""
        locator = self.page.locator(target) if isinstance(target, str) else target
        with self.page.expect_navigation() as navigation:
            locator.click()
        response = navigation.value
        assert response is None or response.status < 500, f"{response.url}: HTTP {response.status}"
        self.check()

    # Reading the page.

    def locator(self, selector: str, **options: Any) -> Locator:
        return self.page.locator(selector, **options)

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def text(self, selector: str = "main") -> str:
        return self.page.locator(selector).inner_text()

    # The check itself.

    def check(self, *, new_document: bool = True) -> None:
        """Run axe-core on the current document (after a navigation unless `new_document=False`)."""
        if new_document:
            self._wait_for_new_document()
        self._checked_loads.add(len(self._loads) - 1)
        self.page.evaluate(_INJECT_AXE, [self.axe_source, not self.javascript])
        raw: list[dict[str, Any]] = self.page.evaluate(_RUN_AXE, AXE_TAGS)
        url = self.page.url
        self.checked_urls.append(url)
        self._screenshot(url)
        violations = [
            Violation(
                id=item["id"],
                impact=item["impact"] or "unknown",
                help=item["help"],
                help_url=item["helpUrl"],
                targets=tuple(item["targets"]),
            )
            for item in raw
        ]
        self.findings.extend((url, violation) for violation in violations)
        if self.blocked:
            listing = "\n".join(f"  {text}" for text in self.blocked)
            self.blocked.clear()
            pytest.fail(f"Content-Security-Policy blocked something on {url}:\n{listing}")
        blocking = [v for v in violations if v.impact in BLOCKING_IMPACTS]
        if blocking:
            listing = "\n".join(v.describe() for v in blocking)
            pytest.fail(f"axe-core: serious or critical violations on {url}:\n{listing}")

    def _wait_for_new_document(self) -> None:
        """Wait until a document loaded since the last check has fired `load` here.

        Playwright may report a navigation done while the old document's load state still stands,
        so wait for the new document's own `load` event (seen by the listener) and its
        `readyState`, polling with `evaluate`, which works even with JavaScript disabled.
        """
        seen = max(self._checked_loads, default=-1) + 1
        deadline = time.monotonic() + DEFAULT_TIMEOUT_MS / 1000
        while True:
            try:
                complete = self.page.evaluate("document.readyState") == "complete"
            except PlaywrightError:  # the context went away mid-navigation; ask again
                complete = False
            if complete and len(self._loads) > seen:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"no new document finished loading (at {self.page.url})")
            self.page.wait_for_timeout(20)

    def unchecked_urls(self) -> list[str]:
        return [url for i, url in enumerate(self._loads) if i not in self._checked_loads]

    def _screenshot(self, url: str) -> None:
        parts = urlsplit(url)
        slug = re.sub(r"[^a-z0-9]+", "-", parts.path.lower()).strip("-")[:60].strip("-") or "root"
        number = self.counter()
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.screenshot_dir / f"{number:02d}-{slug}.png", full_page=True)


OpenPage = Callable[..., CheckedPage]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs Chromium and axe-core: mark it `browser`, if forgotten."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@contextmanager
def outside_playwright_loop() -> Iterator[None]:
    """Run Django code that calls `async_to_sync` (e.g. the audit sealer's channel-layer notice).

    Playwright's sync API leaves its asyncio loop marked as running on this thread between calls,
    and `async_to_sync` refuses to run under a running loop. Nothing runs on that loop while the
    test's own code does, so hide it for the duration and put it back afterwards.

    Django keeps a thread's database connections in one place while a loop runs and in another
    while none does, so the connections opened in here are closed before leaving: nothing else
    would find them again, and an open one keeps PostgreSQL from dropping the test database.
    """
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        connections.close_all()
        asyncio.events._set_running_loop(loop)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session.

    Playwright's sync API keeps an asyncio loop running on this thread until it stops, so Django's
    async-safety check would refuse every ORM call made here meanwhile (in these tests and in any
    test that runs after them in the same process); allow them until the browser is gone.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # While Playwright's loop runs, Django keeps this thread's database connections elsewhere
    # than before (see `outside_playwright_loop`): close them at each switch so none is left
    # open, unreachable, to keep PostgreSQL from dropping the test database. Django reconnects.
    connections.close_all()
    playwright: Playwright = sync_playwright().start()
    try:
        executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest,
    chromium_browser: Browser,
    live_server: LiveServer,
    axe_source: str,
) -> Iterator[OpenPage]:
    """Open a page in a fresh context (Japanese phone defaults; override any context option)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    screenshot_dir = SCREENSHOTS / name
    shutil.rmtree(screenshot_dir, ignore_errors=True)
    numbers = iter(range(1, 1000))
    contexts: list[BrowserContext] = []
    pages: list[CheckedPage] = []

    def open_(**options: Any) -> CheckedPage:
        settings: dict[str, Any] = {
            "base_url": live_server.url,
            "locale": "ja-JP",
            "timezone_id": "Asia/Tokyo",
            "viewport": {"width": 1280, "height": 900},
            **options,
        }
        context = chromium_browser.new_context(**settings)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        checked = CheckedPage(
            page=context.new_page(),
            base_url=live_server.url,
            axe_source=axe_source,
            screenshot_dir=screenshot_dir,
            counter=lambda: next(numbers),
            javascript=settings.get("java_script_enabled", True),
        )
        pages.append(checked)
        return checked

    yield open_

    for page in pages:
        for url, violation in page.findings:
            if violation.impact not in BLOCKING_IMPACTS:
                print(f"axe-core (not blocking) on {url}:\n{violation.describe()}")
    unchecked = [url for page in pages for url in page.unchecked_urls()]
    for context in contexts:
        context.close()
    assert not unchecked, f"pages loaded without the axe-core check: {unchecked}"


@pytest.fixture
def browser_page(open_page: OpenPage) -> CheckedPage:
    return open_page()


@pytest.fixture
def maebashi(transactional_db: None) -> Municipality:
    with outside_playwright_loop():
        return MunicipalityFactory(
            slug="maebashi", name="前橋市", name_en="Maebashi", code="102016"
        )


@pytest.fixture
def administrator(maebashi: Municipality) -> User:
    """An administrator of Maebashi who has not set up two-step verification yet."""
    with outside_playwright_loop():
        user: User = UserFactory(email="admin@maebashi.example.jp")
        grant(user, maebashi, Role.ADMINISTRATOR)
    return user


# Shared steps ----------------------------------------------------------------------------------


def sign_in(page: CheckedPage, email: str) -> None:
    page.goto(f"{HOME}accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}account/", page.text()


def as_staff(page: CheckedPage, user: User) -> None:
    """Give the browser a signed-in session of `user` (who has two-step verification)."""
    client = Client()
    with outside_playwright_loop():
        client.force_login(user)
    page.page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": page.base_url}]
    )


def staff_user(town: Municipality, role: str) -> User:
    with outside_playwright_loop():
        return staff(town, role)


def confirmation_link(outbox: list[mail.EmailMessage], to: str) -> str:
    messages = [message for message in outbox if to in message.to]
    assert len(messages) == 1, f"expected one message to {to}, got {len(messages)}"
    body = str(messages[0].body)
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body)
    assert match, f"no confirmation link in:\n{body}"
    return match[0]


# The live count needs an ASGI server: pytest-django's live server speaks WSGI only. ------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[str]:
    """uvicorn serving config.asgi in a thread of this process: the same test database, the same
    in-memory channel layer and Celery in eager mode, so a signature's broadcast reaches sockets."""
    import uvicorn

    from config.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    _close_server_connections()


def _close_server_connections() -> None:
    """Sync code under ASGI ran on asgiref's threads, each with its own database connection;
    PostgreSQL refuses to drop the test database while one is open. Close what can be reached,
    then end the test database's other sessions (all of them this server's: the name is ours)."""
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
    gc.collect()
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return
    with outside_playwright_loop(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def wait_until_subscribed(group: str) -> None:
    """The consumer joins the group before it accepts; wait for that, so no broadcast is missed."""
    layer = get_channel_layer()
    groups = getattr(layer, "groups", None)  # the in-memory layer shows its groups
    if groups is None:
        time.sleep(1)
        return
    deadline = time.monotonic() + 10
    while not groups.get(group):
        if time.monotonic() > deadline:
            pytest.fail(f"no socket joined {group}")
        time.sleep(0.05)
