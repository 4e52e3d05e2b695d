"""Issue 15, defect 8: days left, the public inspection's one date, and refusals that state the
rule (and do not say "not yet" once an election is over)."""

from __future__ import annotations

import importlib
import re
from datetime import date, datetime, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from identity.eligibility import TOKYO
from identity.models import Municipality, Role, User
from proposals import services
from proposals.models import Proposal, Status, TimelineEvent
from tests.factories import ProposalFactory, ProposalTypeFactory, logged_in, staff, verified
from tests.voting.conftest import Scenario, office, scenario, trustee_keys  # noqa: F401

pytestmark = pytest.mark.django_db


def _page(user: User | None, proposal: Proposal) -> str:
    client = logged_in(user) if user else logged_in(verified(proposal.municipality))
    return client.get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()


@pytest.mark.parametrize("days", [30, 60])
def test_opened_today_for_n_days_says_n(town: Municipality, days: int) -> None:
    kind = ProposalTypeFactory(municipality=town, collection_days=days)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    page = _page(proposal.author, proposal)
    assert f"残り{days}日" in page
    closes = timezone.localtime(proposal.collection_closes_at).strftime("%Y-%m-%d %H:%M")
    assert closes in page  # the count agrees with the date shown beside it
    last = proposal.collection_closes_at.astimezone(TOKYO).date()
    assert (last - timezone.localdate()).days == days


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def test_days_left_at_the_boundaries(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    proposal.collection_opens_at = _at("2026-12-01 10:00")
    proposal.collection_closes_at = _at("2026-12-31 10:00")
    assert proposal.days_left(_at("2026-12-01 10:00")) == 30
    assert proposal.days_left(_at("2026-12-01 23:59")) == 30  # still the opening day in Japan
    assert proposal.days_left(_at("2026-12-02 00:00")) == 29
    assert proposal.days_left(_at("2026-12-30 23:59")) == 1
    assert proposal.days_left(_at("2026-12-31 00:00")) == 0  # the last day
    assert proposal.days_left(_at("2026-12-31 09:59")) == 0
    assert proposal.days_left(_at("2026-12-31 10:00")) is None  # closed
    # Closing at midnight: the day before is the last day on which anyone can sign.
    proposal.collection_closes_at = _at("2027-01-01 00:00")
    assert proposal.days_left(_at("2026-12-31 12:00")) == 0
    # UTC evening is already the next day in Japan.
    proposal.collection_closes_at = _at("2026-12-31 10:00")
    assert proposal.days_left(datetime.fromisoformat("2026-12-30T15:00:00+00:00")) == 0


def test_last_day_and_after_close_on_the_page(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    now = timezone.now()
    # The last day: closing later today in Japan (at the latest 23:59), or just after midnight.
    local = timezone.localtime(now)
    closes = min(now + timedelta(minutes=30), local.replace(hour=23, minute=59, second=59))
    if closes <= now:
        pytest.skip("the test ran in the last second of the day in Japan")
    opened = now - timedelta(days=30)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=opened, collection_closes_at=closes
    )
    page = _page(proposal.author, proposal)
    assert 'data-days-left="0"' in page and "最終日です" in page and "残り" not in page
    Proposal.objects.filter(pk=proposal.pk).update(collection_closes_at=now - timedelta(seconds=1))
    page = _page(proposal.author, proposal)
    assert "data-days-left" not in page and "最終日" not in page


def _certifying(town: Municipality) -> Proposal:
    kind = ProposalTypeFactory(
        municipality=town, threshold_fixed=1, certification_required=True, inspection_days=7
    )
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=30),
        collection_closes_at=timezone.now() - timedelta(seconds=1),
    )
    assert services.collections_close_due() == 1
    services.certification_publish(
        actor=staff(town, Role.ELECTION_OFFICE), municipality=town, proposal_id=proposal.pk
    )
    proposal.refresh_from_db()
    assert proposal.status == Status.CERTIFICATION
    return proposal


def test_inspection_date_has_one_source(town: Municipality) -> None:
    proposal = _certifying(town)
    # As the demo does: the inspection already over, its end moved after publishing.
    ended = timezone.now() - timedelta(days=1)
    Proposal.objects.filter(pk=proposal.pk).update(inspection_ends_at=ended)
    page = _page(None, proposal)
    day = timezone.localtime(ended).strftime("%Y-%m-%d")
    assert f"縦覧は{day}" in page
    timeline = page[page.index('id="timeline-heading"') :]
    dates_in_timeline = set(re.findall(r"\d{4}-\d{2}-\d{2}", timeline.split("</ol>")[0]))
    published = timezone.localdate().isoformat()
    # The publication day (the <time> of the events) and the inspection's end: nothing else.
    assert dates_in_timeline <= {published, day}
    assert re.search(rf">{day}</time> 縦覧期間が終了", timeline)
    later = timezone.localtime(timezone.now() + timedelta(days=9)).strftime("%Y-%m-%d")
    assert later not in page


def test_old_notes_lose_their_copy_of_the_inspection_date(town: Municipality) -> None:
    proposal = _certifying(town)
    old = [
        "有効署名数を公表しました：2人。縦覧期間は2026-12-09までです",
        "Certified count published: 2 valid signatures; public inspection until 2026-12-09",
    ]
    events = [
        TimelineEvent.objects.create(proposal=proposal, status=Status.CERTIFICATION, note=note)
        for note in old
    ]
    migration = importlib.import_module(
        "proposals.migrations.0006_timeline_notes_without_inspection_date"
    )
    migration.strip_inspection_dates(apps, None)
    assert [TimelineEvent.objects.get(pk=e.pk).note for e in events] == [
        "有効署名数を公表しました：2人。",
        "Certified count published: 2 valid signatures.",
    ]


@pytest.mark.parametrize("min_age", [18, 20])
def test_an_under_age_signer_is_told_the_rule(town: Municipality, min_age: int) -> None:
    kind = ProposalTypeFactory(municipality=town, min_age=min_age)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    teen = verified(town, birth=timezone.localdate() - timedelta(days=365 * 17))
    page = _page(teen, proposal)
    assert f"{min_age}歳以上の方が対象です" in page and "まだ" not in page
    refused = logged_in(teen).post(f"/m/maebashi/proposals/{proposal.pk}/sign/", follow=True)
    assert f"{min_age}歳以上の方が対象です" in refused.content.decode()


def test_a_finished_election_says_it_has_ended(scenario: Scenario) -> None:  # noqa: F811
    teen = scenario.others["teen"]
    election = scenario.election
    open_page = logged_in(teen).get(f"/m/maebashi/elections/{election.pk}/").content.decode()
    assert "18歳以上の方が対象です" in open_page
    scenario.close_and_decrypt()
    assert scenario.reload().phase() == "published"
    for path in (
        f"/m/maebashi/elections/{election.pk}/",
        f"/m/maebashi/elections/{election.pk}/vote/",
    ):
        page = logged_in(teen).get(path).content.decode()
        assert "この選挙の投票は終了しました" in page, path
        assert "18歳以上の方が対象です" in page, path
        assert "まだ" not in page, path
    api = logged_in(teen).get(
        f"/api/v1/municipalities/maebashi/elections/{election.pk}/eligibility",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert api.json()["message"] == "This is for people aged 18 or older."


def test_birthdays_do_not_change_the_wording(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, min_age=18)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    today = timezone.localdate()
    # 18 tomorrow (legal age counts from the day before the anniversary): refused today.
    almost = verified(town, birth=date(today.year - 18, today.month, today.day) + timedelta(days=2))
    assert "18歳以上の方が対象です" in _page(almost, proposal)
