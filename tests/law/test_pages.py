"""Points 11 and 13 through the pages: the representative's collectors, the election office's
certificate, collectors' list and blackouts, the clerk's paper rows and the resident's notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.models import Municipality, Role
from proposals import selectors, services
from proposals.models import CollectionBlackout, Collector, Proposal, Signature
from tests.factories import ProposalFactory, logged_in, staff, verified
from tests.law.conftest import (
    certified_demand,
    collecting_demand,
    demand_type,
    office,
    paper_row,
)

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/proposals/"
STAFF = BASE + "staff/"


def test_the_representative_appoints_and_revokes_on_the_page(town: Municipality) -> None:
    proposal = certified_demand(town)
    url = f"{BASE}{proposal.pk}/collectors/"
    assert logged_in(verified(town)).get(url).status_code == 404  # not theirs
    client = logged_in(proposal.author)
    assert "受任者" in client.get(f"{BASE}{proposal.pk}/").content.decode()
    refused = client.post(url, {"name": "", "address": ""})
    assert refused.status_code == 422 and not Collector.objects.exists()
    assert client.post(url, {"name": "受任 一郎", "address": "前橋市大手町1-1"}).status_code == 302
    collector = Collector.objects.get(proposal=proposal)
    page = client.get(url).content.decode()
    assert "受任 一郎" in page and "取り消す" in page
    revoke = client.post(f"{url}{collector.pk}/revoke/")
    assert revoke.status_code == 302
    collector.refresh_from_db()
    assert collector.revoked_at is not None


@pytest.mark.parametrize("page", ["direct-demands/", "blackouts/"])
def test_the_election_office_pages_are_its_own(town: Municipality, page: str) -> None:
    assert logged_in(verified(town)).get(STAFF + page).status_code == 403
    assert logged_in(staff(town, Role.COUNTER_CLERK)).get(STAFF + page).status_code == 403
    assert logged_in(office(town)).get(STAFF + page).status_code == 200


def test_the_office_issues_the_certificate_and_sees_the_collectors_list(
    town: Municipality,
) -> None:
    proposal = ProposalFactory(type=demand_type(town), author=verified(town))
    client = logged_in(office(town))
    listing = client.get(STAFF + "direct-demands/").content.decode()
    assert proposal.title in listing and "未交付" in listing
    assert client.post(f"{STAFF}direct-demands/{proposal.pk}/certificate/").status_code == 302
    proposal.refresh_from_db()
    assert proposal.certificate_issued_at is not None
    services.collector_appoint(
        actor=proposal.author,
        municipality=town,
        proposal_id=proposal.pk,
        name="受任 花子",
        address="町",
    )
    detail = client.get(f"{STAFF}direct-demands/{proposal.pk}/").content.decode()
    assert (
        "受任者名簿" in detail and "受任 花子" in detail and "代表者証明書を交付する" not in detail
    )
    # The office sees the list the representative keeps, without the representative's buttons.
    assert "/revoke/" not in detail and "sheets.pdf" not in detail


def test_the_office_enters_a_blackout_on_the_page(town: Municipality) -> None:
    client = logged_in(office(town))
    reversed_dates = client.post(
        STAFF + "blackouts/",
        {"starts_on": "2027-04-10", "ends_on": "2027-04-01", "reason": "前橋市長選挙"},
    )
    assert reversed_dates.status_code == 422 and not CollectionBlackout.objects.exists()
    done = client.post(
        STAFF + "blackouts/",
        {"starts_on": "令和9年4月1日", "ends_on": "2027-04-10", "reason": "前橋市長選挙"},
    )
    assert done.status_code == 302
    assert "前橋市長選挙" in client.get(STAFF + "blackouts/").content.decode()


def test_the_clerk_enters_a_row_with_its_sheet_row_and_collector(town: Municipality) -> None:
    proposal = collecting_demand(town)
    collector = services.collector_appoint(
        actor=proposal.author, municipality=town, proposal_id=proposal.pk, name="受任", address="町"
    )
    resident = verified(town)
    row = {
        "proposal": proposal.pk,
        "channel": "paper",
        "sheet": "1-12",
        "row": "4",
        "written_on": timezone.localdate().isoformat(),
        "name": f"住民 {resident.pk}",
        "birth_date": "1980-04-01",
        "address": f"大手町{resident.pk}-1",
    }
    client = logged_in(staff(town, Role.COUNTER_CLERK))
    refused = client.post(STAFF + "paper-signatures/", row)
    assert refused.status_code == 422 and "受任者" in refused.content.decode()
    entered = client.post(STAFF + "paper-signatures/", {**row, "collector": collector.pk})
    assert entered.status_code == 302 and f"collector={collector.pk}" in entered["Location"]
    signature = Signature.objects.get(proposal=proposal)
    assert (signature.sheet, signature.sheet_row, signature.collector_id) == (
        "1-12",
        4,
        collector.pk,
    )


def test_the_proposal_page_says_why_no_one_can_sign_during_a_blackout(town: Municipality) -> None:
    proposal = collecting_demand(town)
    today = timezone.localdate()
    services.blackout_add(
        actor=office(town),
        municipality=town,
        values=services.BlackoutValues(today, today + timedelta(days=2), "前橋市長選挙"),
    )
    page = logged_in(verified(town)).get(f"{BASE}{proposal.pk}/").content.decode()
    assert 'data-reason="collection_blackout"' in page and "前橋市長選挙" in page
    assert "この提案に署名する" not in page
    assert "署名収集期間の終了" in page  # the legal deadline on the timeline


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up: the first request also loads what the process caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lists_cost_the_same_for_one_row_or_many(town: Municipality) -> None:
    first = certified_demand(town)
    services.collector_appoint(
        actor=first.author, municipality=town, proposal_id=first.pk, name="受任", address="町"
    )
    client = logged_in(office(town))
    today = timezone.localdate()
    services.blackout_add(
        actor=office(town), municipality=town, values=services.BlackoutValues(today, today, "選挙")
    )
    urls = (STAFF + "direct-demands/", STAFF + "blackouts/", f"{STAFF}direct-demands/{first.pk}/")
    before = [_queries(client, url) for url in urls]
    for name in ("受任 二", "受任 三"):
        services.collector_appoint(
            actor=first.author, municipality=town, proposal_id=first.pk, name=name, address="町"
        )
    certified_demand(town)
    services.blackout_add(
        actor=office(town), municipality=town, values=services.BlackoutValues(today, today, "再")
    )
    assert [_queries(client, url) for url in urls] == before


def test_the_office_traces_a_paper_row_to_its_sheet_row_and_collector(town: Municipality) -> None:
    proposal = collecting_demand(town)
    collector = services.collector_appoint(
        actor=proposal.author,
        municipality=town,
        proposal_id=proposal.pk,
        name="受任 三郎",
        address="町",
    )
    paper_row(town, proposal, sheet="1-3", row=7, collector_id=collector.pk)
    page = logged_in(office(town)).get(f"{STAFF}certification/{proposal.pk}/").content.decode()
    assert "1-3 7行目" in page and "受任者1番 受任 三郎" in page


def test_a_paper_row_entered_during_the_check_counts_on_the_day_it_was_signed(
    town: Municipality,
) -> None:
    """Found by the issue 15 walk: a demand's rows are typed in after collection ends, and the
    public chart put each on its entry day, after the deadline, with none during the period."""
    proposal = collecting_demand(town)
    collector = services.collector_appoint(
        actor=proposal.author, municipality=town, proposal_id=proposal.pk, name="受任", address="町"
    )
    assert proposal.collection_opens_at is not None
    moved_back = timedelta(days=40)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=proposal.collection_opens_at - moved_back,
        collection_closes_at=timezone.now() - timedelta(days=1),
    )
    Collector.objects.filter(pk=collector.pk).update(
        appointed_at=collector.appointed_at - moved_back
    )
    assert services.collections_close_due() == 1
    proposal.refresh_from_db()
    signed_on = timezone.localdate() - timedelta(days=30)
    paper_row(town, proposal, collector_id=collector.pk, written_on=signed_on)
    daily = selectors.daily_signatures(proposal)
    assert [(day, n) for day, n, _total in daily if n] == [(signed_on, 1)]
    assert daily[-1][0] == proposal.last_signing_day() and daily[-1][2] == 1
