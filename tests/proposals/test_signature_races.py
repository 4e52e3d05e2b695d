"""Signatures under real concurrency against PostgreSQL."""

from __future__ import annotations

import pytest

from identity.errors import Conflict
from proposals import services
from proposals.models import Proposal, Signature, Status, TimelineEvent
from tests.concurrency import run_concurrently
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    verified,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_person_signing_from_many_requests_counts_once() -> None:
    town = MunicipalityFactory()
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    outcomes = run_concurrently(
        lambda _: services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk),
        8,
    )
    assert len([o for o in outcomes if isinstance(o, Conflict)]) == 7, outcomes
    proposal.refresh_from_db()
    assert proposal.signature_count == 1 == Signature.objects.filter(proposal=proposal).count()


def test_many_people_signing_at_once_cross_the_threshold_exactly_once() -> None:
    town = MunicipalityFactory()
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=10),
        author=verified(town),
        collecting=True,
    )
    signers = [verified(town) for _ in range(16)]
    outcomes = run_concurrently(
        lambda i: services.signature_add(
            actor=signers[i], municipality=town, proposal_id=proposal.pk
        ),
        len(signers),
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    proposal.refresh_from_db()
    assert proposal.signature_count == 16 == Signature.objects.filter(proposal=proposal).count()
    crossings = [o for o in outcomes if not isinstance(o, BaseException) and o.crossed_threshold]
    assert len(crossings) == 1 and crossings[0].count == 10
    assert proposal.status == Status.THRESHOLD_REACHED
    assert (
        TimelineEvent.objects.filter(proposal=proposal, status=Status.THRESHOLD_REACHED).count()
        == 1
    )
    assert sorted(o.count for o in outcomes if not isinstance(o, BaseException)) == list(
        range(1, 17)
    )
    assert Proposal.objects.get(pk=proposal.pk).threshold_reached_at is not None
