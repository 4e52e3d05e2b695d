"""The foundation's main path in a real browser, the language switch without JavaScript, and phones.

Selectors use ids and URLs rather than visible text, so the tests hold in both languages.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail

from identity import totp
from identity.models import Municipality, Role, RoleAssignment, User
from tests.browser.conftest import (
    CheckedPage,
    OpenPage,
    confirmation_link,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
RESIDENT_EMAIL = "hanako@example.jp"
RESIDENT_PASSWORD = "Mebuku-sakura-2025"
TOTP_PERIOD = 30
MAIN_SUBMIT = "main form button[type=submit]"


def totp_code(secret: str) -> str:
    """The current code; near the end of a period, wait for the next so it is valid on arrival."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < 2:
        time.sleep(left + 0.1)
    return totp.totp_code(secret)


def sign_up(page: CheckedPage, outbox: list[mail.EmailMessage]) -> None:
    page.goto(HOME)
    page.submit(f"main a[href='{HOME}accounts/signup/']")
    page.locator("#id_email").fill(RESIDENT_EMAIL)
    page.locator("#id_password1").fill(RESIDENT_PASSWORD)
    page.locator("#id_password2").fill(RESIDENT_PASSWORD + "x")
    page.submit(MAIN_SUBMIT)
    # The form comes back (checked by axe too) with the error tied to the field it is about.
    repeat = page.locator("#id_password2")
    assert repeat.get_attribute("aria-invalid") == "true"
    described_by = (repeat.get_attribute("aria-describedby") or "").split()
    assert "id_password2_error" in described_by
    assert page.locator("#id_password2_error").is_visible()

    page.locator("#id_password1").fill(RESIDENT_PASSWORD)
    repeat.fill(RESIDENT_PASSWORD)
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}accounts/confirm-email/", page.text()

    page.goto(confirmation_link(outbox, RESIDENT_EMAIL))
    assert RESIDENT_EMAIL in page.text()
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}account/"
    assert RESIDENT_EMAIL in page.text()
    page.submit("nav form[action$='/accounts/logout/'] button")
    assert page.path == HOME


def sign_in(page: CheckedPage, email: str, password: str) -> None:
    page.goto(f"{HOME}accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(password)
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}account/", page.text()


def set_up_totp(page: CheckedPage) -> None:
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), secret
    page.locator("#id_code").fill(totp_code(secret))
    page.submit(MAIN_SUBMIT)
    assert "/accounts/2fa/" in page.path, page.text()


def test_resident_signs_up_and_administrator_appoints_them(
    open_page: OpenPage,
    mailoutbox: list[mail.EmailMessage],
    maebashi: Municipality,
    administrator: User,
) -> None:
    page = open_page()
    sign_up(page, mailoutbox)
    resident = User.objects.get(email=RESIDENT_EMAIL)
    assert resident.emailaddress_set.get().verified

    sign_in(page, administrator.email, PASSWORD)
    # The staff page needs two-step verification, so it sends the administrator to set it up.
    page.submit(f"nav a[href='{HOME}staff/']")
    assert page.locator(".messages").count() == 1
    # allauth asks for the password again before changing MFA (only a reauthentication counts).
    assert page.path == f"{HOME}accounts/reauthenticate/"
    page.locator("#id_password").fill(PASSWORD)
    page.submit(MAIN_SUBMIT)
    assert page.path == f"{HOME}accounts/2fa/totp/activate/"
    set_up_totp(page)

    page.submit(f"nav a[href='{HOME}staff/']")
    assert page.path == f"{HOME}staff/"
    page.submit(f"main a[href='{HOME}staff/roles/']")
    page.locator("#id_email").fill(RESIDENT_EMAIL)
    page.locator("#id_role").select_option(Role.MODERATOR.value)
    page.submit("main form:has(#id_role) button[type=submit]")
    assert page.path == f"{HOME}staff/roles/"
    assert page.locator("tbody tr", has_text=RESIDENT_EMAIL).count() == 1
    assert RoleAssignment.objects.active().filter(user=resident, role=Role.MODERATOR).exists()

    page.submit(f"nav a[href='{HOME}staff/']")
    page.submit(f"main a[href='{HOME}staff/audit/']")
    row = page.locator("tbody tr").filter(
        has=page.locator("code", has_text=re.compile(r"^role\.grant$"))
    )
    mine = row.filter(has_text=administrator.email)
    assert mine.count() == 1, page.text()

    visited = [urlsplit(url).path for url in page.checked_urls]
    for expected in (
        HOME,
        f"{HOME}accounts/signup/",
        f"{HOME}accounts/confirm-email/",
        f"{HOME}accounts/login/",
        f"{HOME}accounts/reauthenticate/",
        f"{HOME}accounts/2fa/totp/activate/",
        f"{HOME}staff/",
        f"{HOME}staff/roles/",
        f"{HOME}staff/audit/",
    ):
        assert expected in visited, f"axe never checked {expected}: {visited}"
    assert not page.unchecked_urls()


def test_language_switch_works_without_javascript(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    page = open_page(java_script_enabled=False)
    page.goto(HOME)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "前橋市" in page.text("h1")

    page.locator("#language-select").select_option("en")
    page.submit(".language-switch button[type=submit]")
    assert page.path == HOME
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Maebashi" in page.text("h1")

    page.locator("#language-select").select_option("ja")
    page.submit(".language-switch button[type=submit]")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "前橋市" in page.text("h1")


@pytest.mark.parametrize("path", [HOME, f"{HOME}accounts/login/"], ids=["home", "login"])
def test_phone_width_has_no_horizontal_scrolling(
    open_page: OpenPage, maebashi: Municipality, path: str
) -> None:
    page = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(path)
    width = page.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"{path} is {width}px wide at a 360px viewport"


def test_the_axe_guard_itself(open_page: OpenPage, maebashi: Municipality) -> None:
    """A page nobody checked is noticed, and a serious violation fails the check."""
    page = open_page()
    page.page.goto(HOME)  # deliberately around the checking helpers
    assert page.unchecked_urls() == [page.page.url]
    page.check()
    assert page.unchecked_urls() == []

    page.page.set_content('<html lang="en"><title>t</title><img src="x.png"></html>')
    with pytest.raises(pytest.fail.Exception, match=r"\[critical\] image-alt"):
        page.check()
