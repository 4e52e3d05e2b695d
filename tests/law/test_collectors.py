"""Point 11: the representative's certificate, registered collectors (受任者), and paper rows that
count only from a collector's sheet."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.errors import Conflict, Gone, InvalidInput, NotFound, PermissionDenied
from identity.models import AuditEntry, Municipality, Role
from proposals import services
from proposals.models import Collector, Proposal, Signature, Status
from tests.factories import ProposalFactory, ProposalTypeFactory, staff, verified
from tests.law.conftest import (
    appoint,
    certified_demand,
    collecting_demand,
    demand_type,
    office,
    paper_row,
)

pytestmark = pytest.mark.django_db


def test_only_the_election_office_issues_the_certificate_once(town: Municipality) -> None:
    proposal = ProposalFactory(type=demand_type(town), author=verified(town))
    with pytest.raises(PermissionDenied):
        services.representative_certificate_issue(
            actor=proposal.author, municipality=town, proposal_id=proposal.pk
        )
    with pytest.raises(Conflict) as early:  # no collection without the certificate
        services.collection_open(actor=proposal.author, municipality=town, proposal_id=proposal.pk)
    assert early.value.code == "no_certificate"
    issued = services.representative_certificate_issue(
        actor=office(town), municipality=town, proposal_id=proposal.pk
    )
    assert issued.certificate_issued_at is not None
    assert AuditEntry.objects.filter(
        action="proposal.certificate_issue", target_id=str(proposal.pk)
    ).exists()
    with pytest.raises(Conflict) as again:
        services.representative_certificate_issue(
            actor=office(town), municipality=town, proposal_id=proposal.pk
        )
    assert again.value.code == "already_issued"


def test_an_ordinance_proposal_has_no_certificate(town: Municipality) -> None:
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), author=verified(town))
    with pytest.raises(Conflict) as error:
        services.representative_certificate_issue(
            actor=office(town), municipality=town, proposal_id=proposal.pk
        )
    assert error.value.code == "not_direct_demand"


def test_the_representative_appoints_and_revokes_collectors(town: Municipality) -> None:
    uncertified = ProposalFactory(type=demand_type(town), author=verified(town))
    with pytest.raises(Conflict) as error:
        appoint(uncertified)
    assert error.value.code == "no_certificate"
    proposal = certified_demand(town)
    with pytest.raises(PermissionDenied):
        services.collector_appoint(
            actor=verified(town),
            municipality=town,
            proposal_id=proposal.pk,
            name="他人",
            address="前橋市",
        )
    first, second = appoint(proposal), appoint(proposal, "受任 二郎")
    assert (first.number, second.number) == (1, 2)
    with pytest.raises(Conflict) as twice:
        appoint(proposal)
    assert twice.value.code == "already_appointed"
    with pytest.raises(InvalidInput):
        appoint(proposal, "   ")
    assert Collector.objects.filter(proposal=proposal).count() == 2
    revoked = services.collector_revoke(
        actor=proposal.author, municipality=town, proposal_id=proposal.pk, collector_id=first.pk
    )
    assert revoked.revoked_at is not None
    with pytest.raises(Conflict):
        services.collector_revoke(
            actor=proposal.author, municipality=town, proposal_id=proposal.pk, collector_id=first.pk
        )
    assert appoint(proposal).number == 3  # appointed again, under a new number
    actions = set(
        AuditEntry.objects.filter(action__startswith="proposal.collector_").values_list(
            "action", flat=True
        )
    )
    assert actions == {"proposal.collector_appoint", "proposal.collector_revoke"}


def test_a_paper_row_counts_only_from_a_collectors_sheet(town: Municipality) -> None:
    proposal = collecting_demand(town)
    with pytest.raises(InvalidInput) as missing:
        paper_row(town, proposal)
    assert missing.value.code == "collector_required"
    other = collecting_demand(town)
    with pytest.raises(NotFound):
        paper_row(town, proposal, collector_id=appoint(other).pk)
    collector = appoint(proposal)
    result = paper_row(town, proposal, collector_id=collector.pk, sheet="1-7", row=3)
    signature = Signature.objects.get(pk=result.signature.pk)
    assert (signature.sheet, signature.sheet_row, signature.collector_id) == (
        "1-7",
        3,
        collector.pk,
    )
    assert signature.written_on == timezone.localdate()
    with pytest.raises(Conflict) as same_row:
        paper_row(town, proposal, collector_id=collector.pk, sheet="1-7", row=3)
    assert same_row.value.code == "row_entered"
    with pytest.raises(Conflict) as not_theirs:  # sheet 2-1 belongs to collector no. 2
        paper_row(town, proposal, collector_id=collector.pk, sheet="2-1", row=1)
    assert not_theirs.value.code == "sheet_not_collectors"
    with pytest.raises(InvalidInput) as no_row:
        paper_row(town, proposal, collector_id=collector.pk, row=None)
    assert no_row.value.code == "row_required"
    assert Signature.objects.filter(proposal=proposal).count() == 1


def test_a_revoked_collectors_later_rows_are_refused(town: Municipality) -> None:
    proposal = collecting_demand(town)
    collector = appoint(proposal)
    Collector.objects.filter(pk=collector.pk).update(
        appointed_at=timezone.now() - timedelta(days=3),
        revoked_at=timezone.now() - timedelta(days=1),
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=5)
    )
    proposal.refresh_from_db()
    today = timezone.localdate()
    with pytest.raises(Conflict) as error:
        paper_row(town, proposal, collector_id=collector.pk, written_on=today)
    assert error.value.code == "collector_not_appointed"
    # A row gathered while the appointment held still counts.
    assert paper_row(
        town, proposal, collector_id=collector.pk, written_on=today - timedelta(1)
    ).count


def test_rows_are_entered_during_the_check_until_the_count_is_published(
    town: Municipality,
) -> None:
    proposal = collecting_demand(town)
    collector = appoint(proposal)
    Collector.objects.filter(pk=collector.pk).update(
        appointed_at=timezone.now() - timedelta(days=40)
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=40),
        collection_closes_at=timezone.now() - timedelta(days=1),
    )
    assert services.collections_close_due() == 1
    proposal.refresh_from_db()
    # Below the goal, yet it goes to the election office: the sheets are still to be entered.
    assert proposal.status == Status.CERTIFICATION and proposal.signature_count == 0
    in_period = timezone.localdate() - timedelta(days=2)
    assert paper_row(town, proposal, collector_id=collector.pk, written_on=in_period).count == 1
    with pytest.raises(Conflict) as late:  # dated after the period
        paper_row(town, proposal, collector_id=collector.pk, row=2)
    assert late.value.code == "outside_period"
    services.certification_publish(actor=office(town), municipality=town, proposal_id=proposal.pk)
    with pytest.raises(Gone):
        paper_row(town, proposal, collector_id=collector.pk, row=3, written_on=in_period)


def test_the_database_keeps_collectors_and_rows_onpaper_row(town: Municipality) -> None:
    proposal = collecting_demand(town)
    collector = appoint(proposal)
    signature = paper_row(town, proposal, collector_id=collector.pk).signature
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.filter(pk=signature.pk).update(channel="counter")
    with pytest.raises(IntegrityError), transaction.atomic():
        Collector.objects.create(
            proposal=proposal,
            number=1,
            name="重複",
            address="前橋市",
            appointed_by=proposal.author,
        )


def test_the_administrator_makes_a_direct_demand_type_only_on_paper_and_certified(
    town: Municipality,
) -> None:
    admin = staff(town, Role.ADMINISTRATOR)
    values = services.ProposalTypeValues(
        name="直接請求",
        threshold_fixed=100,
        collection_days=30,
        accepts_paper=True,
        direct_demand=True,
    )
    with pytest.raises(services.TypeInvalid) as refused:
        services.proposal_type_save(actor=admin, municipality=town, type_id=None, values=values)
    assert "direct_demand" in refused.value.errors
    saved = services.proposal_type_save(
        actor=admin,
        municipality=town,
        type_id=None,
        values=replace(values, certification_required=True),
    )
    assert saved.direct_demand and saved.certification_required
