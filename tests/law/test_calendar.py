"""Point 13: the legal calendar of a direct demand — the collection period by kind of local
government, election blackouts, the 20-day check and the 7-day inspection — at its boundaries
(calendar days in Japan)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from identity.eligibility import TOKYO
from identity.errors import Conflict, InvalidInput, PermissionDenied
from identity.models import AuditEntry, Municipality, MunicipalityKind, Role
from proposals import legal_calendar, selectors, services
from proposals.models import CollectionBlackout, Proposal, Status
from tests.factories import ProposalFactory, ProposalTypeFactory, staff, verified
from tests.law.conftest import certified_demand, collecting_demand, office, resident_facts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first_day", "months", "last_day"),
    [
        (date(2026, 4, 11), 1, date(2026, 5, 10)),  # the day before the corresponding day
        (date(2026, 12, 15), 1, date(2027, 1, 14)),  # across the year
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2027, 1, 29), 1, date(2027, 2, 28)),  # no 29 February in 2027
        (date(2027, 3, 1), 1, date(2027, 3, 31)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 11, 2), 2, date(2027, 1, 1)),
    ],
)
def test_a_period_of_months_ends_as_the_civil_code_counts(
    first_day: date, months: int, last_day: date
) -> None:
    assert legal_calendar.months_later_last_day(first_day, months) == last_day


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def test_the_inspection_runs_seven_full_days_after_publication() -> None:
    late = legal_calendar.inspection_ends_at(_at("2026-12-01 23:59"), 7)
    assert late == _at("2026-12-09 00:00")
    # Midnight in Japan is already the next day, whatever the hour in UTC.
    early = legal_calendar.inspection_ends_at(_at("2026-12-02 00:00"), 7)
    assert early == _at("2026-12-10 00:00")


def test_the_check_is_due_twenty_days_after_the_sheets_arrive() -> None:
    assert legal_calendar.check_due_on(date(2026, 12, 20)) == date(2027, 1, 9)


@pytest.mark.parametrize(
    ("kind", "months"),
    [
        (MunicipalityKind.MUNICIPALITY, 1),
        (MunicipalityKind.DESIGNATED_CITY, 2),
        (MunicipalityKind.PREFECTURE, 2),
    ],
)
def test_collection_lasts_as_the_law_says_for_the_kind_of_local_government(
    town: Municipality, kind: str, months: int
) -> None:
    Municipality.objects.filter(pk=town.pk).update(kind=kind)
    town.refresh_from_db()
    proposal = collecting_demand(town)
    opened = timezone.localdate(proposal.collection_opens_at)
    # Whatever the type's own collection_days (30), the law decides.
    assert proposal.last_signing_day() == legal_calendar.months_later_last_day(
        opened + timedelta(days=1), months
    )
    assert timezone.localtime(proposal.collection_closes_at).time().isoformat() == "00:00:00"


def _blackout(town: Municipality, start: date, end: date) -> CollectionBlackout:
    return services.blackout_add(
        actor=office(town),
        municipality=town,
        values=services.BlackoutValues(start, end, "市長選挙"),
    )


def test_only_the_election_office_enters_a_valid_blackout(town: Municipality) -> None:
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        services.blackout_add(
            actor=staff(town, Role.COUNTER_CLERK),
            municipality=town,
            values=services.BlackoutValues(today, today, "市長選挙"),
        )
    with pytest.raises(InvalidInput):
        _blackout(town, today, today - timedelta(days=1))
    with pytest.raises(InvalidInput):
        services.blackout_add(
            actor=office(town),
            municipality=town,
            values=services.BlackoutValues(today, today, "  "),
        )
    assert not CollectionBlackout.objects.exists()
    _blackout(town, today, today)
    assert AuditEntry.objects.filter(action="proposal.blackout_add").count() == 1


def test_signing_is_refused_with_the_reason_during_a_blackout(town: Municipality) -> None:
    proposal = collecting_demand(town)
    today = timezone.localdate()
    _blackout(town, today - timedelta(days=3), today - timedelta(days=1))  # ended yesterday
    _blackout(town, today + timedelta(days=1), today + timedelta(days=5))  # starts tomorrow
    first = verified(town)
    assert services.signature_add(actor=first, municipality=town, proposal_id=proposal.pk).count
    _blackout(town, today, today)  # today, both ends included
    with pytest.raises(Conflict) as online:
        services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    assert online.value.code == "collection_blackout"
    assert "市長選挙" in str(online.value.message) and today.isoformat() in str(
        online.value.message
    )
    with pytest.raises(Conflict) as counter:
        services.signature_add_offline(
            actor=staff(town, Role.COUNTER_CLERK),
            municipality=town,
            proposal_id=proposal.pk,
            entry=services.OfflineSignature(resident_facts(verified(town)), "counter"),
        )
    assert counter.value.code == "collection_blackout"
    proposal.refresh_from_db()
    assert proposal.signature_count == 1


def test_a_paper_row_dated_in_a_blackout_is_refused(town: Municipality) -> None:
    proposal = collecting_demand(town)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=10)
    )
    proposal.refresh_from_db()
    collector = services.collector_appoint(
        actor=proposal.author, municipality=town, proposal_id=proposal.pk, name="受任", address="町"
    )
    type(collector).objects.filter(pk=collector.pk).update(
        appointed_at=timezone.now() - timedelta(days=10)
    )
    today = timezone.localdate()
    _blackout(town, today - timedelta(days=4), today - timedelta(days=2))
    clerk = staff(town, Role.COUNTER_CLERK)

    def row(number: int, written_on: date) -> int:
        return services.signature_add_offline(
            actor=clerk,
            municipality=town,
            proposal_id=proposal.pk,
            entry=services.OfflineSignature(
                resident_facts(verified(town)),
                "paper",
                "1-1",
                row=number,
                collector_id=collector.pk,
                written_on=written_on,
            ),
        ).count

    with pytest.raises(Conflict) as error:
        row(1, today - timedelta(days=2))  # the blackout's last day
    assert error.value.code == "collection_blackout"
    assert row(2, today - timedelta(days=1)) == 1  # the day after it
    assert row(3, today - timedelta(days=5)) == 2  # the day before it


def test_an_ordinance_proposal_ignores_the_blackout(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    today = timezone.localdate()
    _blackout(town, today, today)
    assert services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)


def test_a_blackout_suspends_the_period(town: Municipality) -> None:
    proposal = collecting_demand(town)
    last = proposal.last_signing_day()
    assert last is not None
    today = timezone.localdate()
    _blackout(town, today + timedelta(days=2), today + timedelta(days=4))  # three days lost
    proposal.refresh_from_db()
    assert proposal.last_signing_day() == last + timedelta(days=3)
    assert "停止" in proposal.timeline.last().note
    # A blackout already entered lengthens a period that opens later.
    later = certified_demand(town)
    services.collection_open(actor=later.author, municipality=town, proposal_id=later.pk)
    later.refresh_from_db()
    assert later.last_signing_day() == last + timedelta(days=3)


def test_closing_starts_the_twenty_day_check_and_the_timeline_shows_it(
    town: Municipality,
) -> None:
    proposal = collecting_demand(town)
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=40),
        collection_closes_at=timezone.now() - timedelta(minutes=1),
    )
    assert services.collections_close_due() == 1
    proposal.refresh_from_db()
    due = timezone.localdate() + timedelta(days=20)
    assert proposal.status == Status.CERTIFICATION and proposal.check_due_on == due
    labels = [item.label for item in selectors.timeline(proposal)]
    assert any(due.isoformat() in label for label in labels)
    assert "署名収集期間の終了" in labels
    # Publishing after the deadline is allowed, and the audit says by how much it was late.
    Proposal.objects.filter(pk=proposal.pk).update(check_due_on=timezone.localdate() - timedelta(3))
    published = services.certification_publish(
        actor=office(town), municipality=town, proposal_id=proposal.pk
    )
    entry = AuditEntry.objects.get(action="proposal.certification_publish")
    assert entry.data["days_late"] == 3
    assert published.inspection_ends_at == legal_calendar.start_of_day(
        timezone.localdate() + timedelta(days=8)
    )
