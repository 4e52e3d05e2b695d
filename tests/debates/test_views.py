"""Debate pages: each renders in Japanese and English, permissions say why, bad input changes
nothing, and the list and detail pages make a bounded number of queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from debates import permissions
from debates.models import (
    Comment,
    Conclusion,
    Contribution,
    Debate,
    DebateModerator,
    Phase,
    Reaction,
    Report,
    Statement,
    StatementStatus,
    Vote,
)
from debates.services import (
    comment_add,
    content_hide,
    contribution_add,
    report_file,
    statement_create_from_contributions,
    statement_submit,
    summary_publish,
    vote_cast,
)
from debates.services.opinions import opinions_compute
from identity.models import Municipality, Role, User
from proposals.models import Proposal
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    ProposalTypeFactory,
    UserFactory,
    enable_totp,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/debates/"


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(client: Client, url: str, lang: str = "ja", **kwargs: Any) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    html: str = response.content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), f"duplicate ids on {url}"
    return html


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


@pytest.fixture
def resident(town: Municipality) -> User:
    return verified(town)


@pytest.fixture
def debate(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge", "conclude")
    )


@pytest.fixture
def converging(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))


@pytest.fixture
def concluding(town: Municipality, moderator: User) -> Debate:
    return DebateFactory(municipality=town, created_by=moderator, phases=("conclude",))


def post(client: Client, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(url, data or {}, HTTP_ACCEPT_LANGUAGE="en", **kw)


# The list and the diverge page -------------------------------------------------------------------


def test_list_shows_debates_with_their_running_phase(
    debate: Debate, converging: Debate, town: Municipality
) -> None:
    client = Client()
    ja = page(client, BASE)
    en = page(client, BASE, "en")
    assert debate.question in ja and f'href="{BASE}{debate.pk}/"' in ja
    assert "Collect ideas" in en and "Find common ground" in en
    assert "0 contributions · 0 statements" in en
    assert 'lang="ja"' in ja and 'lang="en"' in en
    assert f'href="{BASE}new/"' not in en  # residents do not start debates
    assert f'href="{BASE}"' in en  # the navigation link


def test_list_offers_moderators_to_start_a_debate(
    debate: Debate,
    moderator: User,
) -> None:
    assert f'href="{BASE}new/"' in page(logged_in(moderator), BASE, "en")


def test_list_query_count_does_not_grow_with_debates(
    town: Municipality,
    moderator: User,
    django_assert_num_queries: Any,
) -> None:
    for _ in range(3):
        DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    client = Client()
    client.get(BASE)  # warm the session and municipality caches
    with django_assert_num_queries(3):  # count, debates, their phases
        client.get(BASE)
    for _ in range(5):
        DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    with django_assert_num_queries(3):
        client.get(BASE)


def test_detail_in_both_languages_with_timeline_and_reason(debate: Debate) -> None:
    client = Client()
    ja = page(client, f"{BASE}{debate.pk}/")
    en = page(client, f"{BASE}{debate.pk}/", "en")
    assert debate.question in ja
    for html in (ja, en):
        assert html.count('class="phase-current" aria-current="step"') == 1
        assert 'data-reason="not_signed_in"' in html
        assert f'data-debate-socket="/ws/debates/{debate.pk}/"' in html
        assert 'role="status" aria-live="polite"' in html
    assert "Collect ideas" in en and "Find common ground" in en and "Conclusion" in en
    assert f'action="{BASE}{debate.pk}/contribute/"' not in en


def test_unverified_user_is_told_why(debate: Debate) -> None:
    html = page(logged_in(UserFactory()), f"{BASE}{debate.pk}/", "en")
    assert 'data-reason="not_verified"' in html
    assert f'action="{BASE}{debate.pk}/contribute/"' not in html


def test_other_municipality_cannot_see_the_debate(debate: Debate) -> None:
    MunicipalityFactory(slug="kamakura")
    assert Client().get(f"/m/kamakura/debates/{debate.pk}/").status_code == 404
    assert Client().get(f"{BASE}999999/").status_code == 404


def test_resident_posts_comments_replies_and_reacts(
    debate: Debate,
    resident: User,
) -> None:
    client = logged_in(resident)
    html = page(client, f"{BASE}{debate.pk}/", "en")
    assert f'action="{BASE}{debate.pk}/contribute/"' in html
    response = post(
        client,
        f"{BASE}{debate.pk}/contribute/",
        {"title": "ベンチ", "body": "駅前にベンチを置いてほしい", "category": "公園"},
    )
    contribution = Contribution.objects.get(debate=debate)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#contribution-{contribution.pk}")
    assert (contribution.title, contribution.category) == ("ベンチ", "公園")

    url = f"{BASE}{debate.pk}/contributions/{contribution.pk}/"
    post(client, f"{url}comment/", {"body": "賛成です"})
    top = Comment.objects.get(parent=None)
    post(client, f"{url}comment/", {"body": "日陰も", "parent": top.pk})
    reply = Comment.objects.get(parent=top)
    # Two levels deep: a reply to a reply is refused, nothing is written.
    response = post(client, f"{url}comment/", {"body": "三段目", "parent": reply.pk}, follow=True)
    assert "Replies go two levels deep" in response.content.decode()
    assert Comment.objects.count() == 2

    post(client, f"{url}react/", {"on": "1"})
    assert Reaction.objects.filter(contribution=contribution, user=resident).exists()
    html = page(client, f"{BASE}{debate.pk}/", "en")
    assert 'aria-pressed="true"' in html and "This helped me think (1)" in html
    assert f'id="comment-{reply.pk}"' in html and "日陰も" in html
    post(client, f"{url}react/", {})
    assert not Reaction.objects.exists()


def test_bad_contribution_changes_nothing(
    debate: Debate,
    resident: User,
) -> None:
    client = logged_in(resident)
    for data in ({"body": "   "}, {"body": "x" * 10_001}, {"title": "t" * 121, "body": "ok"}):
        response = post(client, f"{BASE}{debate.pk}/contribute/", data)
        assert response.status_code == 422
        assert 'class="error"' in response.content.decode()
    assert not Contribution.objects.exists()
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="本文")
    response = post(
        client, f"{BASE}{debate.pk}/contributions/{contribution.pk}/comment/", {"body": ""}
    )
    assert response.status_code == 302 and not Comment.objects.exists()


def test_ineligible_and_anonymous_posts_change_nothing(debate: Debate) -> None:
    response = post(Client(), f"{BASE}{debate.pk}/contribute/", {"body": "hello"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = post(logged_in(UserFactory()), f"{BASE}{debate.pk}/contribute/", {"body": "hello"})
    assert response.status_code == 422
    assert "verify that you live here" in response.content.decode()
    assert not Contribution.objects.exists()


def test_sorting_and_category_filter(
    debate: Debate,
    resident: User,
) -> None:
    old = contribution_add(actor=resident, debate_id=debate.pk, body="古い", category="交通")
    new = contribution_add(actor=resident, debate_id=debate.pk, body="新しい", category="公園")
    comment_add(actor=resident, contribution_id=old.pk, body="コメント")
    client = Client()

    def order(**query: str) -> list[int]:
        response = client.get(f"{BASE}{debate.pk}/", query)
        return [c.pk for c in response.context["listing"].contributions]

    assert order() == [new.pk, old.pk]
    assert order(sort="discussed") == [old.pk, new.pk]
    assert order(category="交通") == [old.pk]
    shuffled = order(sort="random")
    assert sorted(shuffled) == sorted([old.pk, new.pk])
    assert order(sort="random") == shuffled  # stable on reload
    assert client.get(f"{BASE}{debate.pk}/", {"sort": "bogus"}).status_code == 200


def test_hidden_content_shows_the_moderators_reason(
    debate: Debate,
    resident: User,
    moderator: User,
) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="ひどい投稿")
    content_hide(actor=moderator, target=contribution, reason="個人攻撃")
    en = page(Client(), f"{BASE}{debate.pk}/", "en")
    ja = page(Client(), f"{BASE}{debate.pk}/")
    assert "hidden by moderator: 個人攻撃" in en
    assert "ひどい投稿" not in en and "ひどい投稿" not in ja
    assert "個人攻撃" in ja


def test_report_page_files_once_and_refuses_empty(
    debate: Debate,
    resident: User,
) -> None:
    contribution = contribution_add(actor=resident, debate_id=debate.pk, body="本文")
    reporter = logged_in(UserFactory())
    url = f"{BASE}{debate.pk}/contributions/{contribution.pk}/report/"
    assert "本文" in page(reporter, url) and "本文" in page(reporter, url, "en")
    assert post(reporter, url, {"reason": "  "}).status_code == 422
    assert not Report.objects.exists()
    assert post(reporter, url, {"reason": "不適切"}).status_code == 302
    again = post(reporter, url, {"reason": "もう一度"})
    assert again.status_code == 422 and "reported this already" in again.content.decode()
    assert Report.objects.count() == 1
    comment = comment_add(actor=resident, contribution_id=contribution.pk, body="c")
    url = f"{BASE}{debate.pk}/comments/{comment.pk}/report/"
    assert post(reporter, url, {"reason": "スパム"}).status_code == 302
    assert Report.objects.filter(comment=comment).exists()
    assert Client().get(url).status_code == 302  # sign in first


def test_detail_query_count_does_not_grow(
    debate: Debate,
    resident: User,
    django_assert_num_queries: Any,
) -> None:
    client = logged_in(resident)
    url = f"{BASE}{debate.pk}/"
    client.get(url)
    first = contribution_add(actor=resident, debate_id=debate.pk, body="一")
    comment_add(actor=resident, contribution_id=first.pk, body="c")
    client.get(url)
    # The same 14 (debate, phases, snapshot, session, user, roles, contributions, comments, ...)
    # with one contribution as with nine and their replies.
    with django_assert_num_queries(14):
        assert client.get(url).status_code == 200
    for n in range(8):
        contribution = contribution_add(actor=resident, debate_id=debate.pk, body=f"本文{n}")
        top = comment_add(actor=resident, contribution_id=contribution.pk, body="c")
        comment_add(actor=resident, contribution_id=contribution.pk, body="r", parent_id=top.pk)
    with django_assert_num_queries(14):
        assert client.get(url).status_code == 200


# Converge ----------------------------------------------------------------------------------------


def test_converge_serves_statements_and_votes_can_change(
    converging: Debate,
    moderator: User,
    resident: User,
) -> None:
    statements = [
        statement_create_from_contributions(actor=moderator, debate_id=converging.pk, text=t)
        for t in ("広場に屋根を", "夜はライトアップ", "車の乗り入れ禁止", "ベンチを増やす")
    ]
    client = logged_in(resident)
    url = f"{BASE}{converging.pk}/"
    en = page(client, url, "en")
    assert "You voted on 0 of 4 statements." in en
    assert en.count('name="choice" value="agree"') == 3  # a few at a time
    page(client, url)  # Japanese renders too
    target = statements[0]
    vote_url = f"{BASE}{converging.pk}/statements/{target.pk}/vote/"
    assert post(client, vote_url, {"choice": "agree"}).status_code == 302
    assert post(client, vote_url, {"choice": "disagree"}).status_code == 302
    vote = Vote.objects.get()
    assert vote.value == -1
    target.refresh_from_db()
    assert (target.agree_count, target.disagree_count) == (0, 1)
    # Bad input changes nothing.
    post(client, vote_url, {"choice": "maybe"})
    post(client, f"{BASE}{converging.pk}/statements/999999/vote/", {"choice": "agree"})
    assert Vote.objects.get().value == -1
    en = page(client, url, "en")
    assert "You voted on 1 of 4 statements." in en and "Change to agree" in en


def test_anonymous_sees_statements_but_no_vote_buttons(
    converging: Debate,
    moderator: User,
) -> None:
    statement_create_from_contributions(actor=moderator, debate_id=converging.pk, text="屋根を")
    html = page(Client(), f"{BASE}{converging.pk}/", "en")
    assert "屋根を" in html and 'name="choice"' not in html
    assert 'data-reason="not_signed_in"' in html


def test_proposed_statement_waits_for_a_moderator(
    converging: Debate,
    resident: User,
) -> None:
    client = logged_in(resident)
    url = f"{BASE}{converging.pk}/statements/new/"
    html = page(client, f"{BASE}{converging.pk}/", "en")
    assert "A moderator checks it before others see" in html
    assert post(client, url, {"text": " "}).status_code == 422
    assert not Statement.objects.exists()
    assert post(client, url, {"text": "子どもの遊び場を"}).status_code == 302
    statement = Statement.objects.get()
    assert statement.status == StatementStatus.PENDING
    assert "waiting for a moderator" in page(client, f"{BASE}{converging.pk}/", "en")
    assert "子どもの遊び場を" not in page(Client(), f"{BASE}{converging.pk}/", "en")


def _voted_debate(town: Municipality, moderator: User) -> Debate:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    texts = ["屋根を", "ライト", "車禁止", "ベンチ", "市場", "緑を", "音楽"]
    statements = [
        statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=t)
        for t in texts
    ]
    for person in range(8):
        voter = verified(town)
        for index, statement in enumerate(statements):
            value = 1 if (index < 3) == (person < 4) else -1
            vote_cast(actor=voter, statement_id=statement.pk, value=value)
    opinions_compute(debate.pk)
    return debate


def test_report_page_has_the_map_and_its_text_alternative(
    town: Municipality,
    moderator: User,
) -> None:
    debate = _voted_debate(town, moderator)
    url = f"{BASE}{debate.pk}/report/"
    en = page(Client(), url, "en")
    page(Client(), url)
    assert '<svg viewBox="0 0 480 320" role="img" aria-labelledby="map-title map-desc"' in en
    assert en.count("<circle ") >= 8
    assert "data-groups-table" in en and "Group A" in en and "Group B" in en
    assert "Parameters used" in en and "People who voted" in en
    assert "屋根を" in en


def test_report_links_every_csv_download(
    town: Municipality,
    moderator: User,
) -> None:
    debate = _voted_debate(town, moderator)
    html = page(Client(), f"{BASE}{debate.pk}/report/", "en")
    for name in ("contributions", "statements", "votes", "summary"):
        url = f"{BASE}{debate.pk}/{name}.csv"
        assert f'href="{url}"' in html
        response = Client().get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert Client().get("/m/maebashi/debates/999999/votes.csv").status_code == 404


def test_report_page_without_votes(converging: Debate) -> None:
    en = page(Client(), f"{BASE}{converging.pk}/report/", "en")
    assert "There are not enough votes for a report yet." in en


# Conclude ----------------------------------------------------------------------------------------


def test_conclusion_is_shown_read_only(
    concluding: Debate,
    moderator: User,
) -> None:
    url = f"{BASE}{concluding.pk}/"
    assert "have not published the conclusion yet" in page(Client(), url, "en")
    summary_publish(
        actor=moderator, debate_id=concluding.pk, summary="## まとめ\n広場に屋根", outcome="提案へ"
    )
    ja = page(Client(), url)
    en = page(Client(), url, "en")
    assert "<h2>まとめ</h2>" in ja and "提案へ" in en
    assert "contribute/" not in en and 'name="choice"' not in en


# Moderator pages ---------------------------------------------------------------------------------


def test_moderator_pages_refuse_with_reasons(
    debate: Debate,
    resident: User,
    town: Municipality,
) -> None:
    url = f"{BASE}{debate.pk}/moderation/"
    assert Client().get(url).status_code == 302
    refused = logged_in(resident).get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403 and 'data-reason="not_moderator"' in refused.content.decode()
    no_mfa = staff(town, Role.MODERATOR, mfa=False)
    response = logged_in(no_mfa).get(url)
    assert response.status_code == 302 and "/2fa/totp/activate/" in response["Location"]
    assert logged_in(resident).get(f"{BASE}new/").status_code == 403
    # A moderator named on the debate (no municipal role) may moderate it, with two-step
    # verification like every staff role (issue 13, point 3).
    helper = UserFactory()
    DebateModerator.objects.create(debate=debate, user=helper)
    assert permissions.can_moderate(helper, debate).code == "mfa_required"
    enable_totp(helper)
    assert permissions.can_moderate(helper, debate)
    assert logged_in(helper).get(url).status_code == 200


def _phase_post(question: str, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "question": question,
        "background": "背景",
        "min_age": "18",
        "residence_required": "on",
        "phases-TOTAL_FORMS": str(len(rows)),
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "8",
    }
    for index, (kind, start, end) in enumerate(rows):
        data[f"phases-{index}-kind"] = kind
        data[f"phases-{index}-starts_at"] = start
        data[f"phases-{index}-ends_at"] = end
    return data


def test_create_debate_refuses_overlaps_and_gaps(moderator: User) -> None:
    client = logged_in(moderator)
    page(client, f"{BASE}new/")
    page(client, f"{BASE}new/", "en")
    overlap = _phase_post(
        "広場",
        [
            ("diverge", "2030-04-01T09:00", "2030-04-10T09:00"),
            ("converge", "2030-04-09T09:00", "2030-04-20T09:00"),
        ],
    )
    response = post(client, f"{BASE}new/", overlap)
    assert response.status_code == 422 and "must not overlap" in response.content.decode()
    gap = _phase_post(
        "広場",
        [
            ("diverge", "2030-04-01T09:00", "2030-04-10T09:00"),
            ("converge", "2030-04-11T09:00", "2030-04-20T09:00"),
        ],
    )
    response = post(client, f"{BASE}new/", gap)
    assert response.status_code == 422 and "must not leave a gap" in response.content.decode()
    half = _phase_post("広場", [("diverge", "2030-04-01T09:00", "")])
    assert post(client, f"{BASE}new/", half).status_code == 422
    assert not Debate.objects.exists()
    good = _phase_post(
        "広場をどう使う？",
        [
            ("diverge", "2030-04-01T09:00", "2030-04-10T09:00"),
            ("converge", "2030-04-10T09:00", "2030-04-20T09:00"),
            ("conclude", "2030-04-20T09:00", "2030-05-01T09:00"),
            ("", "", ""),
        ],
    )
    response = post(client, f"{BASE}new/", good)
    debate = Debate.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{debate.pk}/")
    phases = list(Phase.objects.filter(debate=debate).order_by("starts_at"))
    assert [p.kind for p in phases] == ["diverge", "converge", "conclude"]
    assert phases[0].starts_at.isoformat() == "2030-04-01T00:00:00+00:00"  # 09:00 in Tokyo


def test_phases_edit_and_advance(
    debate: Debate,
    moderator: User,
) -> None:
    client = logged_in(moderator)
    url = f"{BASE}{debate.pk}/moderation/phases/"
    page(client, url)
    html = page(client, url, "en")
    assert 'name="phases-0-kind"' in html and 'name="phases-2-ends_at"' in html
    before = list(Phase.objects.filter(debate=debate).values_list("kind", "starts_at"))
    bad = _phase_post(
        "",
        [
            ("diverge", "2030-04-01T09:00", "2030-04-10T09:00"),
            ("converge", "2030-04-12T09:00", "2030-04-20T09:00"),
        ],
    )
    assert post(client, url, bad).status_code == 422
    assert list(Phase.objects.filter(debate=debate).values_list("kind", "starts_at")) == before
    html = page(client, f"{BASE}{debate.pk}/moderation/", "en")
    assert "Advance to the next phase now" in html
    response = post(client, f"{BASE}{debate.pk}/moderation/advance/", follow=True)
    assert "Find common ground" in response.content.decode()
    current = permissions.phase_at(debate, timezone.now())
    assert current is not None and current.kind == "converge"


def test_moderation_queue_hide_and_resolve(
    debate: Debate,
    moderator: User,
    resident: User,
) -> None:
    first = contribution_add(actor=resident, debate_id=debate.pk, body="一つ目")
    second = contribution_add(actor=resident, debate_id=debate.pk, body="二つ目")
    reporter = UserFactory()
    report_file(actor=reporter, target=first, reason="攻撃的")
    kept = report_file(actor=reporter, target=second, reason="違う")
    client = logged_in(moderator)
    home = f"{BASE}{debate.pk}/moderation/"
    html = page(client, home, "en")
    assert "攻撃的" in html and "違う" in html
    page(client, home)
    hide = f"{home}contributions/{first.pk}/hide/"
    page(client, hide, "en")
    page(client, hide)
    assert post(client, hide, {"reason": " "}).status_code == 422
    first.refresh_from_db()
    assert not first.is_hidden
    assert post(client, hide, {"reason": "個人攻撃"}).status_code == 302
    first.refresh_from_db()
    assert first.hidden_reason == "個人攻撃"
    assert post(client, f"{home}reports/{kept.pk}/resolve/").status_code == 302
    kept.refresh_from_db()
    assert kept.resolved_at is not None
    assert "No report is waiting." in page(client, home, "en")
    # A resident cannot hide.
    assert (
        post(
            logged_in(resident), f"{home}contributions/{second.pk}/hide/", {"reason": "x"}
        ).status_code
        == 403
    )
    second.refresh_from_db()
    assert not second.is_hidden


def test_pending_statements_publish_and_reject(
    converging: Debate,
    moderator: User,
    resident: User,
) -> None:
    good = statement_submit(actor=resident, debate_id=converging.pk, text="遊び場を")
    bad = statement_submit(actor=resident, debate_id=converging.pk, text="宣伝です")
    client = logged_in(moderator)
    url = f"{BASE}{converging.pk}/moderation/statements/"
    assert "遊び場を" in page(client, url, "en")
    page(client, url)
    post(client, f"{url}{good.pk}/publish/")
    post(client, f"{url}{bad.pk}/reject/", {"reason": ""})
    bad.refresh_from_db()
    assert bad.status == StatementStatus.PENDING
    post(client, f"{url}{bad.pk}/reject/", {"reason": "宣伝"})
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, bad.status) == (StatementStatus.PUBLISHED, StatementStatus.REJECTED)
    assert "宣伝" in page(logged_in(resident), f"{BASE}{converging.pk}/", "en")


def test_statement_edit_until_the_first_vote(
    converging: Debate,
    moderator: User,
    resident: User,
) -> None:
    statement = statement_create_from_contributions(
        actor=moderator,
        debate_id=converging.pk,
        text="駅前の広場には屋根付きの休憩所を作るべきだと思う",
    )
    client = logged_in(moderator)
    url = f"{BASE}{converging.pk}/moderation/statements/{statement.pk}/edit/"
    assert f'action="{url}"' in page(client, f"{BASE}{converging.pk}/moderation/statements/", "en")
    post(client, url, {"text": ""})
    statement.refresh_from_db()
    assert statement.text.startswith("駅前の広場には")
    post(client, url, {"text": "広場に屋根を"})
    statement.refresh_from_db()
    assert statement.text == "広場に屋根を"
    vote_cast(actor=resident, statement_id=statement.pk, value=1)
    html = page(client, f"{BASE}{converging.pk}/moderation/statements/", "en")
    assert f'action="{url}"' not in html
    post(client, url, {"text": "別の文"})
    statement.refresh_from_db()
    assert statement.text == "広場に屋根を"


def test_similar_contributions_merge_into_a_statement(
    debate: Debate,
    moderator: User,
    resident: User,
) -> None:
    a = contribution_add(
        actor=resident, debate_id=debate.pk, body="駅前の広場にベンチを増やしてほしい"
    )
    b = contribution_add(
        actor=resident, debate_id=debate.pk, body="駅前の広場にベンチを増やしてください"
    )
    contribution_add(actor=resident, debate_id=debate.pk, body="バスの本数を増やして")
    client = logged_in(moderator)
    url = f"{BASE}{debate.pk}/moderation/similar/"
    html = page(client, url, "en")
    page(client, url)
    assert f'value="{a.pk}"' in html and f'value="{b.pk}"' in html
    merge = f"{BASE}{debate.pk}/moderation/merge/"
    assert post(client, merge, {"text": "", "contributions": [a.pk, b.pk]}).status_code == 422
    assert post(client, merge, {"text": "x", "contributions": [999999]}).status_code == 422
    assert not Statement.objects.exists()
    assert (
        post(client, merge, {"text": "ベンチを増やす", "contributions": [a.pk, b.pk]}).status_code
        == 302
    )
    statement = Statement.objects.get()
    assert statement.status == StatementStatus.PUBLISHED
    assert sorted(statement.sources.values_list("pk", flat=True)) == sorted([a.pk, b.pk])
    # A statement of the moderator's own, from no contribution.
    assert post(client, merge, {"text": "夜は静かに"}).status_code == 302
    assert Statement.objects.get(text="夜は静かに").sources.count() == 0


def test_conclusion_page_publishes_and_drafts_a_proposal(
    concluding: Debate,
    moderator: User,
    town: Municipality,
) -> None:
    client = logged_in(moderator)
    url = f"{BASE}{concluding.pk}/moderation/conclusion/"
    page(client, url)
    page(client, url, "en")
    assert post(client, url, {"summary": "", "outcome": ""}).status_code == 422
    assert not Conclusion.objects.exists()
    response = post(client, url, {"summary": "## まとめ", "outcome": "議会へ提案"})
    assert response.status_code == 302
    assert Conclusion.objects.get().outcome == "議会へ提案"
    assert "Make a proposal draft" in page(client, url, "en")
    kind = ProposalTypeFactory(municipality=town)
    draft = f"{BASE}{concluding.pk}/moderation/proposal-draft/"
    # The staff account is no verified resident: the proposals app refuses it, nothing is made.
    response = post(client, draft, {"type": str(kind.pk)}, follow=True)
    assert "verify" in response.content.decode().lower()
    assert not Proposal.objects.exists()
    # A moderator of this debate who lives here may carry the conclusion into a draft.
    resident_moderator = verified(town)
    enable_totp(resident_moderator)
    DebateModerator.objects.create(debate=concluding, user=resident_moderator)
    response = post(logged_in(resident_moderator), draft, {"type": str(kind.pk)})
    proposal = Proposal.objects.get()
    assert response["Location"] == f"/m/maebashi/proposals/{proposal.pk}/"
    assert proposal.status == "draft" and Conclusion.objects.get().proposal == proposal
    assert f'href="/m/maebashi/proposals/{proposal.pk}/"' in page(
        Client(), f"{BASE}{concluding.pk}/", "en"
    )


def test_staff_dashboard_links_debate_tools_for_moderators_only(town: Municipality) -> None:
    new_debate = 'href="/m/maebashi/debates/new/"'
    moderator = page(logged_in(staff(town, Role.MODERATOR)), "/m/maebashi/staff/")
    assert new_debate in moderator
    assert 'href="/m/maebashi/debates/"' in moderator
    for role in (Role.ADMINISTRATOR, Role.COUNCIL, Role.ELECTION_OFFICE, Role.COUNTER_CLERK):
        other = page(logged_in(staff(town, role)), "/m/maebashi/staff/")
        assert new_debate not in other, role
