"""My account's data pages in a real browser without JavaScript, axe-core on every page: the
resident confirms their password for the download, then deletes the account."""

from __future__ import annotations

import pytest

from identity.models import Municipality, User
from proposals.models import Signature
from proposals.services import signature_add
from tests.browser.conftest import HOME, MAIN_SUBMIT, OpenPage, outside_playwright_loop, sign_in
from tests.factories import PASSWORD, ProposalFactory, ProposalTypeFactory, verified

pytestmark = pytest.mark.browser


def test_resident_downloads_and_deletes_without_javascript(
    open_page: OpenPage, maebashi: Municipality
) -> None:
    with outside_playwright_loop():
        resident: User = verified(maebashi, email="kaede@example.jp")
        proposal = ProposalFactory(type=ProposalTypeFactory(municipality=maebashi), collecting=True)
        signature_add(actor=resident, municipality=maebashi, proposal_id=proposal.pk)
    page = open_page(java_script_enabled=False)
    sign_in(page, resident.email)
    assert "自分のデータ" in page.text()

    # The download first asks for the password again (allauth's reauthentication page).
    page.submit(page.locator("main a", has_text="自分のデータをダウンロード（JSON）"))
    assert "reauthenticate" in page.path
    page.locator("#id_password").fill(PASSWORD)
    with page.page.expect_download() as download:
        page.locator(MAIN_SUBMIT).click()
    assert download.value.suggested_filename.endswith(".json")

    page.goto(f"{HOME}account/delete/")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_confirm").check()
    page.submit(MAIN_SUBMIT)
    assert page.path == HOME
    assert "アカウントを削除しました" in page.text("body")
    with outside_playwright_loop():
        resident.refresh_from_db()
        assert resident.erased_at is not None
        proposal.refresh_from_db()
        assert proposal.signature_count == 1
        assert Signature.objects.get(proposal=proposal).user_id is None
