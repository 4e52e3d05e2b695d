"""Issue 15 "City-ready", the closing walk: one direct demand (条例制定改廃請求) from filing to the
council's answer, every step a person takes done on the real pages in Chromium, axe-core and the
CSP check on every page, JavaScript off (the core paths need none).

invite → accept committee → representative's certificate → appoint a collector → print a sheet
(PDF read back with pdftotext) → its row entered at the counter → public inspection → council
answer with a document an anonymous visitor downloads.

Setup of the world goes through factories and services, never the pages: the municipality, the
proposal type, the accounts (staff with two-step verification, signed in by session cookie as in
the other browser tests) and the passing of time (the collection period's end and the end of the
public inspection), which no person does.
"""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 (poppler's pdftotext, fixed arguments)
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from identity.models import Municipality, Role
from proposals import services
from proposals.models import (
    Collector,
    CommitteeMember,
    CouncilAnswer,
    InvitationState,
    Proposal,
    Signature,
    Status,
)
from tests.browser.conftest import (
    CheckedPage,
    OpenPage,
    as_staff,
    outside_playwright_loop,
    sign_in,
    staff_user,
)
from tests.factories import ProposalTypeFactory, verified

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
PROPOSALS = f"{HOME}proposals/"
STAFF = f"{PROPOSALS}staff/"
MAIN_SUBMIT = "main form button[type=submit]"
NO_SCRIPT = {"java_script_enabled": False}

TITLE = "ごみ処理手数料条例の改正"
SUMMARY = "家庭ごみの処理手数料を引き下げる"
COLLECTOR = "受任 一郎"
# Days the world is moved back when "the collection period ends": more than the law's month.
PERIOD_PASSED = timedelta(days=40)


def _pdftotext(pdf: Path) -> str:
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext (poppler-utils) is needed"
    done = subprocess.run(  # nosec B603 (fixed tool, a file this test downloaded)
        [tool, "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


def _staff_page(open_page: OpenPage, role: str, maebashi: Municipality) -> CheckedPage:
    page = open_page(**NO_SCRIPT)
    as_staff(page, staff_user(maebashi, role))
    page.goto(f"{HOME}staff/")
    return page


def test_a_direct_demand_walks_from_filing_to_the_councils_document(
    open_page: OpenPage, maebashi: Municipality, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    with outside_playwright_loop():
        # Setup: a demand for an ordinance with a committee of one promoter, paper sheets, and a
        # goal of one valid signature so a single row decides it.
        kind = ProposalTypeFactory(
            municipality=maebashi,
            name="条例制定改廃請求",
            threshold_fixed=1,
            committee_size=1,
            certification_required=True,
            accepts_paper=True,
            direct_demand=True,
            inspection_days=7,
        )
        author = verified(maebashi)
        invitee = verified(maebashi)
        signer = verified(maebashi)  # writes on the collector's sheet

    # 1. The representative files the demand and invites a promoter.
    rep = open_page(**NO_SCRIPT)
    sign_in(rep, author.email)
    rep.goto(PROPOSALS)
    rep.submit(f"main a[href='{PROPOSALS}new/']")
    rep.locator("#id_type").select_option(str(kind.pk))
    rep.locator("#id_title").fill(TITLE)
    rep.locator("#id_summary").fill(SUMMARY)
    rep.locator("#id_body").fill("第3条中「40円」を「30円」に改める。")
    rep.submit(MAIN_SUBMIT)
    with outside_playwright_loop():
        proposal = Proposal.objects.get(title=TITLE)
    detail = f"{PROPOSALS}{proposal.pk}/"
    assert rep.path == detail
    invite = f"form[action='{detail}committee/invite/']"
    rep.locator(f"{invite} input[name=email]").fill(invitee.email)
    rep.submit(f"{invite} button")
    assert rep.locator(".message-success").count() == 1

    # 2. The invited resident accepts under My account.
    resident = open_page(**NO_SCRIPT)
    sign_in(resident, invitee.email)
    assert TITLE in resident.text("#invitations-heading + p + ul")
    resident.submit(f"form[action='{detail}committee/accept/'] button")
    assert resident.locator(".message-success").count() == 1
    with outside_playwright_loop():
        assert CommitteeMember.objects.get(proposal=proposal).state == InvitationState.ACCEPTED

    # 3. The election office issues the representative's certificate.
    office = _staff_page(open_page, Role.ELECTION_OFFICE, maebashi)
    office.submit(f"main a[href='{STAFF}direct-demands/']")
    office.submit(f"main a[href='{STAFF}direct-demands/{proposal.pk}/']")
    office.submit(f"form[action='{STAFF}direct-demands/{proposal.pk}/certificate/'] button")
    assert office.locator(".message-success").count() == 1

    # 4. The representative opens collection, appoints a collector and prints a sheet.
    rep.goto(detail)
    rep.submit(f"form[action='{detail}open/'] button")
    assert rep.locator("[data-count]").inner_text() == "0"
    rep.submit(f"main a[href='{detail}collectors/']")
    rep.locator("#id_name").fill(COLLECTOR)
    rep.locator("#id_address").fill("前橋市大手町二丁目12番1号")
    rep.submit("main form[method=post]:not([action]) button")
    assert rep.locator(".message-success").count() == 1
    with outside_playwright_loop():
        collector = Collector.objects.get(proposal=proposal)
    assert collector.number == 1 and collector.name == COLLECTOR
    sheets = f"form[action='{detail}sheets.pdf']"
    rep.locator(f"{sheets} input[name=sheets]").fill("1")
    with rep.page.expect_download() as downloading:
        rep.locator(f"{sheets} button").click()
    pdf = tmp_path / "sheet.pdf"
    downloading.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = _pdftotext(pdf)
    for expected in (SUMMARY, COLLECTOR, "署名簿番号 1-1", "受任者"):
        assert expected in text, f"{expected!r} not in the sheet:\n{text}"

    # Time passes (setup, not a person's act): the collector gathered a row during the period,
    # which has now ended; the task that closes due collections hands the demand to the office.
    with outside_playwright_loop():
        proposal.refresh_from_db()
        assert proposal.collection_opens_at is not None
        Proposal.objects.filter(pk=proposal.pk).update(
            collection_opens_at=proposal.collection_opens_at - PERIOD_PASSED,
            collection_closes_at=timezone.now() - timedelta(days=1),
        )
        Collector.objects.filter(pk=collector.pk).update(
            appointed_at=collector.appointed_at - PERIOD_PASSED
        )
        assert services.collections_close_due() == 1
        proposal.refresh_from_db()
        assert proposal.status == Status.CERTIFICATION
        written_on = proposal.last_signing_day()
    assert written_on is not None

    # 5. At the counter, the clerk enters the sheet's row during the office's check.
    clerk = _staff_page(open_page, Role.COUNTER_CLERK, maebashi)
    clerk.submit(f"main a[href='{STAFF}paper-signatures/']")
    clerk.locator("#id_proposal").select_option(str(proposal.pk))
    clerk.locator("input[name=channel][value=paper]").check()
    clerk.locator("#id_sheet").fill("1-1")
    clerk.locator("#id_row").fill("1")
    clerk.locator("#id_collector").select_option(str(collector.pk))
    clerk.locator("#id_written_on").fill(written_on.isoformat())
    clerk.locator("#id_name").fill(f"住民 {signer.pk}")
    clerk.locator("#id_birth_date").fill("昭和55年4月1日")
    clerk.locator("#id_address").fill(f"大手町{signer.pk}-1")
    clerk.submit(MAIN_SUBMIT)
    assert clerk.locator(".message-success").count() == 1, clerk.text()
    with outside_playwright_loop():
        row = Signature.objects.get(proposal=proposal)
    assert (row.channel, row.sheet, row.sheet_row, row.collector_id) == (
        "paper",
        "1-1",
        1,
        collector.pk,
    )

    # 6. The office checks the sheets and publishes the count: the public inspection opens.
    office.goto(f"{HOME}staff/")
    office.submit(f"main a[href='{STAFF}certification/']")
    office.submit(f"main a[href='{STAFF}certification/{proposal.pk}/']")
    assert office.locator(f"#signature-{row.pk}").count() == 1
    office.submit(f"form[action='{STAFF}certification/{proposal.pk}/publish/'] button")
    with outside_playwright_loop():
        proposal.refresh_from_db()
    assert proposal.certified_count == 1  # the counter's row is counted
    assert proposal.inspection_ends_at is not None
    until = timezone.localtime(proposal.inspection_ends_at).strftime("%Y-%m-%d %H:%M")

    visitor = open_page(**NO_SCRIPT)
    visitor.goto(detail)
    inspection = visitor.text("section[aria-labelledby=certification-heading]")
    assert until in inspection and "有効署名数：1人" in inspection, inspection
    assert visitor.locator(f"section a[href^='{HOME}accounts/login/']").count() >= 1
    # The public table under the chart counts the row on the day it was signed, within the period.
    last = visitor.locator("section[aria-labelledby=chart-heading] tbody tr").last
    assert last.locator("td").all_inner_texts() == [written_on.isoformat(), "1", "1"]

    # Time passes again (setup): the inspection ends with no objection; the office finalizes.
    with outside_playwright_loop():
        Proposal.objects.filter(pk=proposal.pk).update(
            inspection_ends_at=timezone.now() - timedelta(minutes=1)
        )
    office.goto(f"{STAFF}certification/{proposal.pk}/")
    office.submit(f"form[action='{STAFF}certification/{proposal.pk}/finalize/'] button")
    with outside_playwright_loop():
        proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED

    # 7. The council reviews, attaches a document and answers.
    council = _staff_page(open_page, Role.COUNCIL, maebashi)
    council.submit(f"main a[href='{STAFF}council/']")
    council.submit(f"main a[href='{STAFF}council/{proposal.pk}/']")
    council.submit(f"form[action='{STAFF}council/{proposal.pk}/review/'] button")
    document = tmp_path / "審議資料.pdf"
    document.write_bytes(b"%PDF-1.4\n% walk: council paper for the demand\n%%EOF\n")
    attach = f"form[action='{STAFF}council/{proposal.pk}/documents/']"
    council.locator(f"{attach} input[name=title]").fill("総務委員会審議資料")
    council.locator(f"{attach} input[name=file]").set_input_files(str(document))
    council.submit(f"{attach} button")
    answer = f"form[action='{STAFF}council/{proposal.pk}/answer/']"
    council.locator(f"{answer} input[name=decision][value=adopted]").check()
    council.locator(f"{answer} textarea[name=reasons]").fill(
        "総務委員会で審議し、原案のとおり可決しました。来年度から施行します。"
    )
    council.submit(f"{answer} button")
    assert council.path == detail
    with outside_playwright_loop():
        assert CouncilAnswer.objects.get(proposal=proposal).decision == "adopted"

    # 8. An anonymous visitor reads the answer and downloads the council's document.
    visitor.goto(detail)
    assert visitor.locator("#answer-heading").is_visible()
    link = visitor.locator(f"main a[href^='{detail}documents/']")
    assert link.inner_text() == "総務委員会審議資料"
    href = link.get_attribute("href")
    assert href is not None
    download = visitor.page.request.get(href)
    assert download.status == 200
    assert download.body() == document.read_bytes()
