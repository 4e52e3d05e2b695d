from __future__ import annotations

from datetime import date

from django.utils import timezone

from identity.keys import PersonFacts
from identity.models import Municipality, Role, User
from proposals import services
from proposals.models import Collector, Proposal, ProposalType
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    staff,
    verified,
)


def demand_type(town: Municipality, **fields: object) -> ProposalType:
    """A demand for an ordinance under art. 74: 1/50 of the register, checked by the office."""
    values: dict[str, object] = {
        "name": "条例制定改廃請求",
        "threshold_fixed": 2,
        "collection_days": 30,
        "certification_required": True,
        "accepts_paper": True,
        "direct_demand": True,
    }
    values.update(fields)
    kind: ProposalType | None = ProposalType.objects.filter(
        municipality=town, name=values["name"]
    ).first()
    return kind or ProposalTypeFactory(municipality=town, **values)


def office(town: Municipality) -> User:
    clerk: User | None = getattr(town, "_test_office", None)
    if clerk is None:
        clerk = staff(town, Role.ELECTION_OFFICE)
        town._test_office = clerk
    return clerk


def certified_demand(town: Municipality, **fields: object) -> Proposal:
    """A demand whose representative holds the certificate, not yet collecting."""
    proposal = ProposalFactory(type=demand_type(town, **fields), author=verified(town))
    return services.representative_certificate_issue(
        actor=office(town), municipality=town, proposal_id=proposal.pk
    )


def collecting_demand(town: Municipality, **fields: object) -> Proposal:
    proposal = certified_demand(town, **fields)
    services.collection_open(actor=proposal.author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    return proposal


def resident_facts(user: User) -> PersonFacts:
    """What the clerk reads off a sheet for a resident made by `verified`."""
    return PersonFacts(f"住民 {user.pk}", date(1980, 4, 1), f"大手町{user.pk}-1")


def appoint(
    proposal: Proposal, name: str = "受任 一郎", address: str = "前橋市大手町1-1"
) -> Collector:
    """The representative appoints a collector."""
    return services.collector_appoint(
        actor=proposal.author,
        municipality=proposal.municipality,
        proposal_id=proposal.pk,
        name=name,
        address=address,
    )


def paper_row(town: Municipality, proposal: Proposal, **fields: object) -> services.SignatureResult:
    """A counter clerk enters one paper row (sheet 1-1, row 1, signed today unless told)."""
    values: dict[str, object] = {
        "person": resident_facts(verified(town)),
        "channel": "paper",
        "sheet": "1-1",
        "row": 1,
        "written_on": timezone.localdate(),
    }
    values.update(fields)
    return services.signature_add_offline(
        actor=staff(town, Role.COUNTER_CLERK),
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(**values),
    )
