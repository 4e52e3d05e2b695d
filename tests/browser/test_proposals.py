"""Proposals in a real browser, axe-core on every page: a resident files and signs, a 17-year-old
is told why they cannot sign, a counter clerk types a paper signature, the council answers, and
the count on an open page follows a signature made in another tab (WebSocket, ASGI server).

Selectors use ids, names and URLs rather than visible text, so the tests hold in both languages.
Staff sign in by session cookie (their sign-in with two-step verification is covered by
test_foundation); residents sign in through the form.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from identity.models import Municipality, Role
from proposals import services
from proposals.events import group_name
from proposals.models import CouncilAnswer, Proposal, ProposalType, Signature, Status
from tests.browser.conftest import (
    OpenPage,
    as_staff,
    outside_playwright_loop,
    sign_in,
    staff_user,
    wait_until_subscribed,
)
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    verified,
)

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
PROPOSALS = f"{HOME}proposals/"
MAIN_SUBMIT = "main form button[type=submit]"


@pytest.fixture
def kind(maebashi: Municipality) -> ProposalType:
    with outside_playwright_loop():
        return ProposalTypeFactory(municipality=maebashi, threshold_fixed=2, accepts_paper=True)


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
        proposal = ProposalFactory(type=kind, author=verified(maebashi), collecting=True)
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
        proposal = ProposalFactory(type=kind, author=verified(maebashi), collecting=True)
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
        proposal = ProposalFactory(
            type=ProposalTypeFactory(municipality=maebashi, threshold_fixed=1),
            author=author,
            collecting=True,
        )
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


@pytest.mark.postgres
def test_count_updates_live_in_a_second_tab(
    open_page: OpenPage, maebashi: Municipality, kind: ProposalType, asgi_server: str
) -> None:
    with outside_playwright_loop():
        proposal = ProposalFactory(type=kind, author=verified(maebashi), collecting=True)
        signer = verified(maebashi)
    watcher = open_page(base_url=asgi_server)
    with watcher.page.expect_websocket() as socket_opened:
        watcher.goto(f"{PROPOSALS}{proposal.pk}/")
    assert socket_opened.value.url.endswith(f"/ws/proposals/{proposal.pk}/")
    wait_until_subscribed(group_name(proposal.pk))
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
    # The bar is an SVG rect whose width attribute live.js sets (no inline style under the CSP).
    assert watcher.locator("[data-progress] rect").get_attribute("width") == "50%"
