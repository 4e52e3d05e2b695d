"""Issue 15 in a real browser, axe-core on every page, JavaScript off (the core paths need none):
a visitor finds the open data page from the home page; an invitee accepts a committee invitation
under My account; the council attaches a document that a visitor downloads once answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from identity.models import Municipality, Role
from proposals import services
from proposals.models import CommitteeMember, InvitationState, Proposal, Status
from tests.browser.conftest import OpenPage, as_staff, outside_playwright_loop, sign_in, staff_user
from tests.factories import ProposalFactory, ProposalTypeFactory, verified

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
PROPOSALS = f"{HOME}proposals/"
NO_SCRIPT = {"java_script_enabled": False}


def test_a_visitor_finds_the_open_data(open_page: OpenPage, maebashi: Municipality) -> None:
    with outside_playwright_loop():
        kind = ProposalTypeFactory(municipality=maebashi)
        ProposalFactory(type=kind, author=verified(maebashi), collecting=True)
    page = open_page(**NO_SCRIPT)
    page.goto(HOME)
    page.submit(f"main a[href='{HOME}opendata/']")
    assert page.path == f"{HOME}opendata/"
    assert page.locator("a[rel=license]").count() == 1
    assert page.locator(f"a[href='{HOME}opendata/all.zip']").count() == 1
    assert page.locator(f"footer a[href='{HOME}opendata/']").count() == 1
    zipped = page.page.request.get(f"{HOME}opendata/all.zip")
    assert zipped.status == 200 and zipped.body()[:2] == b"PK"


def test_an_invitee_accepts_under_my_account(open_page: OpenPage, maebashi: Municipality) -> None:
    with outside_playwright_loop():
        author = verified(maebashi)
        kind = ProposalTypeFactory(municipality=maebashi, committee_size=1)
        draft = services.proposal_file(
            actor=author,
            municipality=maebashi,
            type_id=kind.pk,
            draft=services.ProposalDraft(title="条例の制定", summary="概要", body="本文"),
        )
        invitee = verified(maebashi)
        services.committee_invite(
            actor=author, municipality=maebashi, proposal_id=draft.pk, email=invitee.email
        )
    page = open_page(**NO_SCRIPT)
    sign_in(page, invitee.email)  # lands on My account
    assert "条例の制定" in page.text("#invitations-heading + p + ul")
    page.submit(f"form[action='{PROPOSALS}{draft.pk}/committee/accept/'] button")
    assert page.path == f"{HOME}account/"
    assert page.locator(".message-success").count() == 1
    assert page.locator("#invitations-heading").count() == 0
    with outside_playwright_loop():
        assert CommitteeMember.objects.get().state == InvitationState.ACCEPTED


def test_a_visitor_downloads_a_council_document(
    open_page: OpenPage, maebashi: Municipality, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    pdf = tmp_path / "議会資料.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with outside_playwright_loop():
        author = verified(maebashi)
        kind = ProposalTypeFactory(municipality=maebashi, threshold_fixed=1)
        proposal: Proposal = ProposalFactory(type=kind, author=author, collecting=True)
        services.signature_add(actor=author, municipality=maebashi, proposal_id=proposal.pk)
        services.collection_close_early(
            actor=author, municipality=maebashi, proposal_id=proposal.pk
        )
    council = staff_user(maebashi, Role.COUNCIL)
    page = open_page(**NO_SCRIPT)
    as_staff(page, council)
    page.goto(f"{PROPOSALS}staff/council/{proposal.pk}/")
    form = f"form[action='{PROPOSALS}staff/council/{proposal.pk}/documents/']"
    page.locator(f"{form} input[name=title]").fill("審議資料")
    page.locator(f"{form} input[name=file]").set_input_files(str(pdf))
    page.submit(f"{form} button")
    link = page.locator("main a[href*='/documents/']")
    url = link.get_attribute("href")
    assert url is not None and url.startswith(f"{PROPOSALS}{proposal.pk}/documents/")
    assert page.page.request.get(url).status == 200

    visitor = open_page(**NO_SCRIPT)
    assert visitor.page.request.get(url).status == 404  # before the answer
    with outside_playwright_loop():
        services.proposal_answer(
            actor=council,
            municipality=maebashi,
            proposal_id=proposal.pk,
            decision="adopted",
            reasons="予算の範囲で実施します。来年度から段階的に進めます。",
        )
        assert Proposal.objects.get(pk=proposal.pk).status == Status.ANSWERED
    visitor.goto(f"{PROPOSALS}{proposal.pk}/")
    assert visitor.locator(f"main a[href='{url}']").count() == 1
    download = visitor.page.request.get(url)
    assert download.status == 200 and download.body().startswith(b"%PDF-")
    assert "filename*=utf-8''" in download.headers["content-disposition"]
