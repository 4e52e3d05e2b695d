"""The identity issue in a real browser, axe-core on every page of ours: a resident signs up and
verifies through the municipality's OpenID Connect provider (a real node-oidc-provider process), a
counter clerk verifies a person and prints a set-password letter, and the election office's dry
run of a register import reports a bad line.

The provider's login and consent pages are a third party's UI: the test walks them with raw
Playwright calls, exempts exactly those documents (on the provider's origin) from the axe check,
and checks again once the browser is back on our host. Staff sign in by session cookie (their
sign-in with two-step verification is covered by test_foundation); the resident through the forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import translation
from pytest_django.live_server_helper import LiveServer

from identity.models import (
    DocumentType,
    Municipality,
    RegisterEntry,
    ResidentRegister,
    Role,
    User,
    Verification,
    VerificationMethod,
)
from identity.services import identity_provider_configure
from tests.browser.conftest import (
    CheckedPage,
    OpenPage,
    as_staff,
    confirmation_link,
    outside_playwright_loop,
    staff_user,
)
from tests.factories import HANAKO, TARO, UserFactory, register_csv
from tests.oidc_provider import Client as OidcClient
from tests.oidc_provider import OidcProvider, needs_provider, start_provider

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
MY_VERIFICATION = f"{HOME}verification/"
COUNTER = f"{HOME}staff/counter/"
REGISTER = f"{HOME}staff/register/"
MAIN_SUBMIT = "main form button[type=submit]"
RESIDENT_EMAIL = "sakura@example.jp"
RESIDENT_PASSWORD = "Mebuku-sakura-2025"
# Generous: another process may be keeping the CPU busy, and the provider round trips add up.
OIDC_TIMEOUT_MS = 30_000

CALLBACK_PATH = f"{HOME}accounts/oidc/municipal-maebashi/login/callback/"
PROVIDER_NAME = "前橋市ID"
TARO_ADDRESS = "群馬県前橋市大手町二丁目12番1号"
ACCOUNTS = {
    "taro": {
        "name": "前橋 太郎",
        "birthdate": "1980-04-01",
        "address": {"formatted": TARO_ADDRESS, "region": "群馬県", "locality": "前橋市"},
    }
}


def ja(text: str) -> str:
    with translation.override("ja"):
        return str(translation.gettext(text))


def assert_japanese(page: CheckedPage) -> None:
    assert page.locator("html").get_attribute("lang") == "ja", page.page.url


# The provider, registered with the live server's callback ---------------------------------------


@pytest.fixture
def live_idp(live_server: LiveServer) -> Iterator[OidcProvider]:
    """The real provider, with a client whose redirect URI is this live server's callback."""
    client = OidcClient(
        "maebashi-browser", "maebashi-browser-secret", live_server.url + CALLBACK_PATH
    )
    provider = start_provider([client], ACCOUNTS, timeout=30)
    yield provider
    provider.stop()


@contextmanager
def at_third_party(page: CheckedPage, origin: str) -> Iterator[None]:
    """Walk another site's pages without axe: the documents loaded meanwhile on `origin` are
    exempt from the harness's "every document checked" rule; any other one stays unchecked (and
    fails the test at teardown) unless checked afterwards."""
    # Its pages import a web font from the internet, which is closed here: do not wait for it.
    page.page.route("https://fonts.googleapis.com/**", lambda route: route.abort())
    # The harness offers no public way to exempt a document: use its bookkeeping directly.
    first = len(page._loads)
    yield
    theirs = {
        index
        for index, url in enumerate(page._loads)
        if index >= first and url.startswith(origin + "/")
    }
    assert theirs, f"no page of {origin} was loaded"
    page._checked_loads.update(theirs)


def sign_up(page: CheckedPage, outbox: list[mail.EmailMessage]) -> None:
    """Sign up through the allauth form and confirm the address; signed in afterwards."""
    # allauth's rate limits (one confirmation mail per address every 3 minutes) live in the
    # cache, which is Redis when REDIS_URL is set and then outlives the test run: start afresh.
    cache.clear()
    page.goto(HOME)
    assert_japanese(page)
    page.submit(f"main a[href='{HOME}accounts/signup/']")
    page.locator("#id_email").fill(RESIDENT_EMAIL)
    page.locator("#id_password1").fill(RESIDENT_PASSWORD)
    page.locator("#id_password2").fill(RESIDENT_PASSWORD)
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}accounts/confirm-email/", page.text()
    page.goto(confirmation_link(outbox, RESIDENT_EMAIL))
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}account/", page.text()


@needs_provider
def test_resident_signs_up_and_verifies_with_the_municipal_id(
    open_page: OpenPage,
    mailoutbox: list[mail.EmailMessage],
    maebashi: Municipality,
    live_idp: OidcProvider,
) -> None:
    administrator = staff_user(maebashi, Role.ADMINISTRATOR)
    with outside_playwright_loop():
        identity_provider_configure(
            actor=administrator,
            municipality=maebashi,
            name=PROVIDER_NAME,
            server_url=live_idp.issuer,
            client_id=live_idp.clients[0].client_id,
            secret=live_idp.clients[0].client_secret,
        )
    page = open_page()
    sign_up(page, mailoutbox)
    resident = User.objects.get(email=RESIDENT_EMAIL)

    page.goto(MY_VERIFICATION)
    assert page.locator("section[data-status=not_verified]").count() == 1
    page.submit(f"main a[href='{HOME}verify/oidc/']")
    assert_japanese(page)
    assert PROVIDER_NAME in page.text()

    with at_third_party(page, live_idp.issuer):
        with page.page.expect_navigation(
            url=lambda url: url.startswith(f"{live_idp.issuer}/interaction/"),
            timeout=OIDC_TIMEOUT_MS,
        ):
            page.locator(MAIN_SUBMIT).click()
        page.page.locator("input[name=login]").fill("taro")
        page.page.locator("input[name=password]").fill("not-checked")
        with page.page.expect_navigation(timeout=OIDC_TIMEOUT_MS):
            page.page.locator("form button[type=submit]").click()
        assert page.page.locator("input[name=prompt][value=consent]").count() == 1
        page.page.locator("form button[type=submit]").click()
        # Consent → the provider → our callback (allauth exchanges the code) → /verify/oidc/done/.
        page.page.wait_for_url(f"**{MY_VERIFICATION}", timeout=OIDC_TIMEOUT_MS)
    page.check()
    assert page.path == MY_VERIFICATION
    assert_japanese(page)
    assert page.locator(".message-success").count() == 1
    status = page.locator("section[data-status=verified]")
    assert status.count() == 1, page.text()
    assert ja("Verified resident") in status.locator("dl").inner_text()
    assert ja("Municipal ID (OpenID Connect)") in status.locator("dl").inner_text()

    verification = Verification.objects.get(user=resident, municipality=maebashi)
    assert verification.method == VerificationMethod.OIDC
    assert (verification.legal_name, verification.birth_date, verification.address) == (
        "前橋 太郎",
        date(1980, 4, 1),
        TARO_ADDRESS,
    )
    assert not page.unchecked_urls()


def test_counter_clerk_verifies_a_person_and_prints_a_letter(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    clerk = staff_user(maebashi, Role.COUNTER_CLERK)
    with outside_playwright_loop():
        resident: User = UserFactory(email="ichiro@example.jp")
    page = open_page()
    as_staff(page, clerk)
    page.goto(f"{HOME}staff/")
    page.submit(f"main a[href='{COUNTER}']")
    assert_japanese(page)
    page.locator("#id_q").fill(resident.email)
    page.submit(MAIN_SUBMIT)
    found = page.locator("#results-heading ~ div tbody tr")
    assert found.count() == 1, page.text()
    assert ja("Not verified") in found.inner_text()
    page.submit(found.locator(f"a[href='{COUNTER}people/{resident.pk}/']"))

    verify_form = f"form[action='{COUNTER}people/{resident.pk}/verify/']"
    page.locator("#id_legal_name").fill("前橋 一郎")
    page.locator("#id_birth_date").fill("平成2年4月1日")
    page.locator("#id_address").fill("群馬県前橋市大手町一丁目1番1号")
    page.locator("#id_document_type").select_option(DocumentType.MY_NUMBER_CARD.value)
    page.submit(f"{verify_form} button[type=submit]")
    assert page.path == f"{COUNTER}people/{resident.pk}/", page.text()
    assert page.locator(".message-success").count() == 1
    row = page.locator("table:has(#history-caption) tbody tr")
    assert row.count() == 1, page.text()
    shown = row.inner_text()
    for expected in (
        "前橋 一郎",
        "1990-04-01",
        ja("At the counter"),
        ja("My Number Card"),
        ja("In force"),
    ):
        assert expected in shown, f"{expected!r} not in {shown!r}"
    verification = Verification.objects.get(user=resident, municipality=maebashi)
    assert verification.method == VerificationMethod.COUNTER
    assert verification.birth_date == date(1990, 4, 1)
    assert verification.verified_by == clerk
    assert not page.locator(f"a[href='{COUNTER}people/{resident.pk}/letter/']").count()

    # A resident without e-mail: the account gets a generated login id, handed over on a letter.
    page.submit(f"main a[href='{COUNTER}']")
    page.submit(f"main a[href='{COUNTER}new/']")
    page.locator("#id_email").fill("")
    page.submit(MAIN_SUBMIT)
    created = User.objects.exclude(pk__in=[clerk.pk, resident.pk]).get()
    assert re.fullmatch(r"\d+@maebashi\.counter\.invalid", created.email), created.email
    assert not created.has_usable_password()
    assert page.path == f"{COUNTER}people/{created.pk}/", page.text()
    page.submit(f"main a[href='{COUNTER}people/{created.pk}/letter/']")
    assert page.path == f"{COUNTER}people/{created.pk}/letter/"
    assert_japanese(page)
    letter = page.locator("article.letter")
    assert letter.locator(".login").inner_text().strip() == created.email
    assert letter.locator("figure.qr svg path").count() >= 1
    assert "/accounts/password/reset/key/" in letter.locator(".link").inner_text()
    assert not page.unchecked_urls()


def test_register_dry_run_reports_the_bad_line(open_page: OpenPage, maebashi: Municipality) -> None:
    office = staff_user(maebashi, Role.ELECTION_OFFICE)
    bad = ("10000000003", "佐藤 次郎", "2000-02-30", "前橋市千代田町5-2", "")
    data = register_csv([TARO, HANAKO, bad], encoding="cp932")  # the bad date is on line 4
    page = open_page()
    as_staff(page, office)
    page.goto(f"{HOME}staff/")
    page.submit(f"main a[href='{REGISTER}']")
    assert_japanese(page)
    page.locator("#id_file").set_input_files(
        files=[{"name": "juminhyo.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("#id_reference_date").fill("2025-04-01")
    assert page.locator("#id_dry_run").is_checked()
    page.submit("main form[enctype='multipart/form-data'] button[type=submit]")

    assert page.path == REGISTER
    report = page.locator("#report")
    assert report.locator("[role=alert]").count() == 1, page.text()
    rows = report.locator("tbody tr")
    assert rows.count() == 1, report.inner_text()
    assert rows.locator("th[scope=row]").inner_text().strip() == "4"
    assert rows.locator("[data-code=bad_date]").count() == 1
    assert "2000-02-30" in rows.inner_text()
    assert ResidentRegister.objects.count() == 0
    assert RegisterEntry.objects.count() == 0
    assert not page.unchecked_urls()
