"""A debate through all three phases in a real browser, axe-core on every page.

A moderator creates the debate with its phases, a resident posts contributions and comments, the
moderator advances to converge and merges similar contributions into a statement, residents vote
(the recomputation runs: Celery is eager in tests), the report shows the opinion groups, and the
moderator advances to conclude and publishes the summary. Selectors use ids, names and URLs, not
visible text, so the test holds in both languages. Staff sign in by session cookie (their sign-in
with two-step verification is covered by test_foundation); residents through the form.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from debates.events import group_name
from debates.models import Comment, Conclusion, Contribution, Debate, Statement, Vote
from debates.services import (
    contribution_add,
    phase_advance,
    statement_create_from_contributions,
    vote_cast,
)
from identity.models import Municipality, Role
from tests.browser.conftest import (
    CheckedPage,
    OpenPage,
    as_staff,
    outside_playwright_loop,
    sign_in,
    staff_user,
    wait_until_subscribed,
)
from tests.factories import (
    DebateFactory,
    verified,
)

pytestmark = pytest.mark.browser

HOME = "/m/maebashi/"
DEBATES = f"{HOME}debates/"
MAIN_SUBMIT = "main form button[type=submit]"


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _fill_phases(page: CheckedPage) -> None:
    now = timezone.now()
    bounds = [now - timedelta(hours=1), now + timedelta(days=7), now + timedelta(days=14)]
    bounds.append(now + timedelta(days=21))
    for index, kind in enumerate(["diverge", "converge", "conclude"]):
        page.locator(f"#id_phases-{index}-kind").select_option(kind)
        page.locator(f"#id_phases-{index}-starts_at").fill(_local(bounds[index]))
        page.locator(f"#id_phases-{index}-ends_at").fill(_local(bounds[index + 1]))


def test_debate_through_all_three_phases(open_page: OpenPage, maebashi: Municipality) -> None:
    moderator = staff_user(maebashi, Role.MODERATOR)
    with outside_playwright_loop():
        resident = verified(maebashi)
        others = [verified(maebashi) for _ in range(7)]

    # The moderator creates the debate; a gap between phases is refused first.
    mod = open_page()
    as_staff(mod, moderator)
    mod.goto(DEBATES)
    mod.submit(f"main a[href='{DEBATES}new/']")
    mod.locator("#id_question").fill("駅前広場をどう使う？")
    mod.locator("#id_background").fill("## 背景\n\n駅前広場の再整備を検討しています。")
    _fill_phases(mod)
    mod.locator("#id_phases-1-starts_at").fill(_local(timezone.now() + timedelta(days=7, hours=2)))
    mod.submit(MAIN_SUBMIT)
    assert mod.locator("[data-phase-errors]").is_visible()
    assert not Debate.objects.exists()
    _fill_phases(mod)
    mod.submit(MAIN_SUBMIT)
    debate = Debate.objects.get()
    detail = f"{DEBATES}{debate.pk}/"
    assert mod.path == detail
    assert mod.locator(".phase-current").count() == 1

    # Diverge: a resident posts two similar contributions and comments, on a phone.
    page = open_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(page, resident.email)
    page.goto(detail)
    for title, body in (
        ("ベンチ", "駅前の広場にベンチを増やしてほしい。"),
        ("ベンチを", "駅前の広場にベンチを増やしてください。"),
        ("バス", "バスの本数を増やしてほしい。"),
    ):
        page.locator("#id_title").fill(title)
        page.locator("#id_body").fill(body)
        page.submit(f"form[action='{detail}contribute/'] button[type=submit]")
    first = Contribution.objects.get(title="ベンチ")
    comment_form = f"form[action='{detail}contributions/{first.pk}/comment/']"
    page.locator(f"#comment-body-{first.pk}").fill("日陰もあると嬉しい")
    page.submit(f"{comment_form}.comment-form button")
    top = Comment.objects.get()
    page.locator(f"#comment-{top.pk} ~ details summary").click()
    page.locator(f"#reply-{top.pk}").fill("木を植えるのはどうでしょう")
    page.submit(f"#reply-{top.pk} ~ button")
    assert Comment.objects.filter(parent=top).count() == 1
    page.submit(f"form[action='{detail}contributions/{first.pk}/react/'] button")
    assert (
        page.locator(
            f"form[action='{detail}contributions/{first.pk}/react/'] [aria-pressed=true]"
        ).count()
        == 1
    )
    width = page.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the debate page is {width}px wide on a phone"

    # The moderator advances to converge and merges the similar contributions.
    mod.goto(f"{detail}moderation/")
    mod.submit(f"form[action='{detail}moderation/advance/'] button")
    assert mod.locator(".phase-current").inner_text().strip()
    mod.goto(f"{detail}moderation/similar/")
    group = mod.locator(f"form[action='{detail}moderation/merge/']").first
    group.locator("textarea[name=text]").fill("駅前広場にベンチを増やす")
    mod.submit(group.locator("button[type=submit]"))
    merged = Statement.objects.get()
    assert merged.sources.count() == 2
    with outside_playwright_loop():
        statements = [merged] + [
            statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=text)
            for text in (
                "夜はライトアップする",
                "車の乗り入れを禁止する",
                "週末に市場を開く",
                "緑を増やす",
                "音楽イベントを開く",
                "駐輪場を広げる",
            )
        ]
        # Seven other residents vote: two camps (the first three statements split them).
        for person, voter in enumerate(others):
            for index, statement in enumerate(statements):
                agree = (index < 3) == (person < 4)
                vote_cast(actor=voter, statement_id=statement.pk, value=1 if agree else -1)

    # Converge: the resident votes through the page, a few statements at a time.
    page.goto(detail)
    for _ in range(len(statements)):
        page.submit(page.locator("form.vote-form button[value=agree]").first)
    assert Vote.objects.filter(participant__user=resident).count() == len(statements)
    assert page.locator("form.vote-form button[value=agree]").count() == 0
    # Change of mind on the first one.
    page.locator("details.my-votes summary").click()
    page.submit(
        page.locator(f"form[action='{detail}statements/{merged.pk}/vote/'] button[value=disagree]")
    )
    assert Vote.objects.get(participant__user=resident, statement=merged).value == -1

    # The report: the recomputation ran after the votes; groups, map and text alternative.
    page.goto(f"{detail}report/")
    assert page.locator("svg[data-opinion-map] circle").count() >= len(others) + 1
    rows = page.locator("table[data-groups-table] tbody tr")
    assert rows.count() >= 2
    assert page.locator("[data-consensus] li").count() >= 1

    # Conclude: the moderator advances and publishes the summary and outcome.
    mod.goto(f"{detail}moderation/")
    mod.submit(f"form[action='{detail}moderation/advance/'] button")
    mod.goto(f"{detail}moderation/conclusion/")
    mod.locator("#id_summary").fill("## まとめ\n\nベンチと緑を増やすことに幅広い支持がありました。")
    mod.locator("#id_outcome").fill("来年度の予算要求に盛り込みます。")
    mod.submit(MAIN_SUBMIT)
    assert mod.path == detail
    assert Conclusion.objects.get(debate=debate).outcome == "来年度の予算要求に盛り込みます。"

    # Everyone sees the conclusion, read-only.
    page.goto(detail)
    assert page.locator("#conclusion-heading").is_visible()
    assert page.locator("form.vote-form").count() == 0
    assert page.locator(f"form[action='{detail}contribute/']").count() == 0


@pytest.mark.postgres
def test_live_phase_change_and_report_refresh(
    open_page: OpenPage,
    maebashi: Municipality,
    asgi_server: str,
) -> None:
    """Over a real socket (ASGI server): the open debate page announces the phase change in its
    live region and reloads on request; the open report fills in when new groups are computed."""
    moderator = staff_user(maebashi, Role.MODERATOR)
    with outside_playwright_loop():
        debate = DebateFactory(
            municipality=maebashi, created_by=moderator, phases=("diverge", "converge", "conclude")
        )
        voters = [verified(maebashi) for _ in range(6)]
    detail = f"{DEBATES}{debate.pk}/"
    watcher = open_page(base_url=asgi_server)
    with watcher.page.expect_websocket() as socket_opened:
        watcher.goto(detail)
    assert socket_opened.value.url.endswith(f"/ws/debates/{debate.pk}/")
    wait_until_subscribed(group_name(debate.pk))
    assert watcher.locator("[data-debate-socket]").get_attribute("data-phase") == "diverge"

    # A contribution posted elsewhere: "1 new contribution" with a button to show it.
    with outside_playwright_loop():
        contribution_add(actor=voters[0], debate_id=debate.pk, body="バス停に屋根を")
    watcher.locator("#debate-live button").wait_for(state="visible", timeout=10_000)
    assert watcher.locator("text=バス停に屋根を").count() == 0  # not patched in: a notice
    watcher.check(new_document=False)

    with outside_playwright_loop():
        phase_advance(actor=moderator, debate_id=debate.pk)
    watcher.page.wait_for_function(
        "() => document.querySelector('#debate-live').dataset.phaseMessage"
        " && document.querySelector('#debate-live').textContent.includes("
        "document.querySelector('#debate-live').dataset.phaseMessage)",
        timeout=10_000,
    )
    notice = watcher.locator("#debate-live button")
    notice.wait_for(state="visible", timeout=10_000)
    assert watcher.locator("#debate-live").get_attribute("role") == "status"
    watcher.check(new_document=False)  # the page with the notice passes axe too
    watcher.submit(notice)
    assert watcher.locator("[data-debate-socket]").get_attribute("data-phase") == "converge"

    with watcher.page.expect_websocket():
        watcher.goto(f"{detail}report/")
    wait_until_subscribed(group_name(debate.pk))
    assert watcher.locator("svg[data-opinion-map]").count() == 0
    with outside_playwright_loop():
        statements = [
            statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=text)
            for text in ("屋根を", "ライト", "車禁止", "ベンチ", "市場", "緑を", "音楽")
        ]
        for person, voter in enumerate(voters):
            for index, statement in enumerate(statements):
                agree = (index < 3) == (person < 3)
                vote_cast(actor=voter, statement_id=statement.pk, value=1 if agree else -1)
    # Celery is eager: each vote's recomputation ran and broadcast `opinions_updated`.
    watcher.locator("svg[data-opinion-map]").wait_for(state="visible", timeout=10_000)
    assert watcher.locator("table[data-groups-table] tbody tr").count() >= 2
    watcher.check(new_document=False)
