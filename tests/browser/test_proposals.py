"""Proposals in a real browser, axe-core on every page: a resident files and signs, a 17-year-old
is told why they cannot sign, a counter clerk types a paper signature, the council answers, and
the count on an open page follows a signature made in another tab (WebSocket, ASGI server).

Selectors use ids, names and URLs rather than visible text, so the tests hold in both languages.
Staff sign in by session cookie (their sign-in with two-step verification is covered by
test_foundation); residents sign in through the form.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from django.utils import timezone

from identity.models import Municipality, Role, User
from proposals import services
from proposals.events import group_name
from proposals.models import CouncilAnswer, Proposal, ProposalType, Signature, Status
from tests.browser.conftest import CheckedPage, OpenPage, outside_playwright_loop
from tests.factories import PASSWORD, staff
from tests.proposals.conftest import citizen_type, collecting, verified

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
PROPOSALS = f"{HOME}proposals/"
MAIN_SUBMIT = "main form button[type=submit]"


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


@pytest.fixture
def kind(maebashi: Municipality) -> ProposalType:
    with outside_playwright_loop():
        return citizen_type(maebashi, threshold_fixed=2, accepts_paper=True)


def test_resident_files_a_proposal_and_signs_it(
    open_page: OpenPage, maebashi: Municipality, kind: ProposalType
) -> None:
    with outside_playwright_loop():
        author = verified(maebashi)
    page = open_page()
    sign_in(page, author.email)
    page.goto(PROPOSALS)
    page.submit(f"main a[href='{PROPOSALS}new/']")
    page.locator("#id_type").select_option(str(kind.pk))
    page.locator("#id_title").fill("公園にベンチを")
    page.locator("#id_summary").fill("高齢者が休める場所を増やす")
    page.locator("#id_body").fill("## 提案\n\n- 中央公園にベンチを10基\n- 日陰をつくる")
    page.submit(MAIN_SUBMIT)
    proposal = Proposal.objects.get(title="公園にベンチを")
    assert page.path == f"{PROPOSALS}{proposal.pk}/"
    page.submit(f"form[action='{PROPOSALS}{proposal.pk}/open/'] button")
    page.submit(f"form[action='{PROPOSALS}{proposal.pk}/sign/'] button")
    assert page.locator("[data-count]").inner_text() == "1"
    page.submit(f"form[action='{PROPOSALS}{proposal.pk}/follow/'] button")
    assert page.locator(f"form[action='{PROPOSALS}{proposal.pk}/unfollow/']").count() == 1
    assert Signature.objects.filter(proposal=proposal, user=author).exists()


def test_seventeen_year_old_is_told_why(
    open_page: OpenPage, maebashi: Municipality, kind: ProposalType
) -> None:
    today = timezone.localdate()
    with outside_playwright_loop():
        proposal = collecting(maebashi, kind, verified(maebashi))
        young = verified(maebashi, birth=today - timedelta(days=17 * 365 + 30))
    page = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(page, young.email)
    page.goto(f"{PROPOSALS}{proposal.pk}/")
    reason = page.locator("[data-reason='under_age']")
    assert reason.is_visible() and reason.inner_text().strip()
    assert page.locator(f"form[action='{PROPOSALS}{proposal.pk}/sign/']").count() == 0
    width = page.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the proposal page is {width}px wide on a phone"


def test_counter_clerk_enters_a_paper_signature(
    open_page: OpenPage, maebashi: Municipality, kind: ProposalType
) -> None:
    with outside_playwright_loop():
        proposal = collecting(maebashi, kind, verified(maebashi))
        signer = verified(maebashi, birth=date(1950, 4, 1))
    clerk = staff_user(maebashi, Role.COUNTER_CLERK)
    page = open_page()
    as_staff(page, clerk)
    page.goto(f"{HOME}staff/")
    page.submit(f"main a[href='{PROPOSALS}staff/paper-signatures/']")
    page.locator("#id_proposal").select_option(str(proposal.pk))
    page.locator("input[name=channel][value=paper]").check()
    page.locator("#id_sheet").fill("S-007")
    page.locator("#id_name").fill(f"住民 {signer.pk}")
    page.locator("#id_birth_date").fill("昭和25年4月1日")
    page.locator("#id_address").fill(f"大手町{signer.pk}-1")
    page.submit(MAIN_SUBMIT)
    assert page.locator(".message-success").count() == 1
    assert page.locator("#id_sheet").input_value() == "S-007"  # ready for the next entry
    assert page.locator("#id_name").input_value() == ""
    signature = Signature.objects.get(proposal=proposal)
    assert signature.channel == "paper" and signature.sheet == "S-007"

    # The same person again is refused, with the reason, and the form keeps what was typed.
    page.locator("#id_name").fill(f"住民 {signer.pk}")
    page.locator("#id_birth_date").fill("1950-04-01")
    page.locator("#id_address").fill(f"大手町{signer.pk}-1")
    page.submit(MAIN_SUBMIT)
    assert page.locator("[data-refusal]").is_visible()
    assert page.locator("#id_name").input_value() == f"住民 {signer.pk}"
    assert Signature.objects.filter(proposal=proposal).count() == 1


def test_council_answers(open_page: OpenPage, maebashi: Municipality) -> None:
    with outside_playwright_loop():
        author = verified(maebashi)
        proposal = collecting(maebashi, citizen_type(maebashi, threshold_fixed=1), author)
        services.signature_add(
            actor=verified(maebashi), municipality=maebashi, proposal_id=proposal.pk
        )
        services.collection_close_early(
            actor=author, municipality=maebashi, proposal_id=proposal.pk
        )
    council = staff_user(maebashi, Role.COUNCIL)
    page = open_page()
    as_staff(page, council)
    page.goto(f"{HOME}staff/")
    page.submit(f"main a[href='{PROPOSALS}staff/council/']")
    page.submit(f"main a[href='{PROPOSALS}staff/council/{proposal.pk}/']")
    page.submit(f"form[action$='/{proposal.pk}/review/'] button")
    assert Proposal.objects.get(pk=proposal.pk).status == Status.UNDER_REVIEW
    answer_form = f"form[action$='/{proposal.pk}/answer/']"
    page.locator(f"{answer_form} input[name=decision][value=adopted]").check()
    page.locator(f"{answer_form} textarea[name=reasons]").fill("短い")
    page.submit(f"{answer_form} button")
    assert page.locator("#id_reasons").get_attribute("aria-invalid") == "true"
    page.locator(f"{answer_form} input[name=decision][value=adopted]").check()
    page.locator("#id_reasons").fill(
        "## 理由\n\n来年度の予算で**ベンチを設置**します。財源は確保済みです。"
    )
    page.submit(f"{answer_form} button")
    assert page.path == f"{PROPOSALS}{proposal.pk}/"
    assert page.locator("#answer-heading").is_visible()
    assert page.locator(".panel-answer strong", has_text="ベンチを設置").count() == 1
    assert CouncilAnswer.objects.get(proposal=proposal).decision == "adopted"


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


def _wait_until_subscribed(group: str) -> None:
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


@pytest.mark.postgres
def test_count_updates_live_in_a_second_tab(
    open_page: OpenPage, maebashi: Municipality, kind: ProposalType, asgi_server: str
) -> None:
    with outside_playwright_loop():
        proposal = collecting(maebashi, kind, verified(maebashi))
        signer = verified(maebashi)
    watcher = open_page(base_url=asgi_server)
    with watcher.page.expect_websocket() as socket_opened:
        watcher.goto(f"{PROPOSALS}{proposal.pk}/")
    assert socket_opened.value.url.endswith(f"/ws/proposals/{proposal.pk}/")
    _wait_until_subscribed(group_name(proposal.pk))
    assert watcher.locator("[data-count]").inner_text() == "0"

    signing = open_page(base_url=asgi_server)
    sign_in(signing, signer.email)
    signing.goto(f"{PROPOSALS}{proposal.pk}/")
    signing.submit(f"form[action='{PROPOSALS}{proposal.pk}/sign/'] button")
    assert signing.locator("[data-count]").inner_text() == "1"
    # No reload in the first tab: the number changes by itself.
    watcher.page.wait_for_function(
        "() => document.querySelector('[data-count]').textContent.trim() === '1'", timeout=10_000
    )
    assert watcher.locator("[data-progress]").get_attribute("aria-valuenow") == "1"
