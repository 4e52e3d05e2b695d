"""Exact query counts on every online signing path, flat in the size of the batch: the group
commit issues the same statements for one signer as for many (one read of the proposals, one
eligibility query per kind of proposal, one check of who signed already, one insert of
signatures, one of audit entries, one counter update, one outbox message per proposal). Counts
include the SAVEPOINT/RELEASE pair that stands for BEGIN/COMMIT inside the test's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from identity.models import Municipality
from proposals import services
from proposals.models import Signature
from tests.factories import PASSWORD, ProposalFactory, ProposalTypeFactory, verified

pytestmark = pytest.mark.django_db

# SAVEPOINT, proposals, verifications, signed already?, INSERT signatures, INSERT audit entries,
# UPDATE counter, INSERT the outbox message (the live count), RELEASE.
GROUP_COMMIT = 9


def _count(call: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.parametrize("signers", [1, 5])
def test_signature_add_many_is_flat_in_batch_size(town: Municipality, signers: int) -> None:
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    people = [verified(town) for _ in range(signers)]
    requests = [services.SignRequest(person, proposal.pk) for person in people]
    outcomes: list[Any] = []
    queries = _count(
        lambda: outcomes.extend(services.signature_add_many(requests=requests, municipality=town))
    )
    assert [o.count for o in outcomes] == list(range(1, signers + 1))
    assert queries == GROUP_COMMIT


def test_signature_add_is_the_group_commit_of_one(
    town: Municipality, django_assert_num_queries: Any
) -> None:
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    signer = verified(town)
    with django_assert_num_queries(GROUP_COMMIT):
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)


@pytest.mark.postgres
@pytest.mark.parametrize("proposals", [2, 6])
def test_a_batch_over_several_proposals_is_flat_too(town: Municipality, proposals: int) -> None:
    """Counters of several proposals: locked in id order, then bumped in one UPDATE."""
    kind = ProposalTypeFactory(municipality=town)
    author = verified(town)
    targets = [
        ProposalFactory(municipality=town, type=kind, author=author, collecting=True)
        for _ in range(proposals)
    ]
    requests = [services.SignRequest(verified(town), p.pk) for p in targets]
    queries = _count(lambda: services.signature_add_many(requests=requests, municipality=town))
    # + the row locks in id order, + one outbox message per further proposal (its live count):
    # one INSERT per proposal of the batch, never per signature.
    assert queries == GROUP_COMMIT + 1 + (proposals - 1)
    assert Signature.objects.count() == proposals


def test_the_sign_form_query_count(town: Municipality, django_assert_num_queries: Any) -> None:
    """The page's sign button: the session and the user (the municipality is cached), then the
    group commit of one."""
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    client = Client()
    client.login(email=verified(town).email, password=PASSWORD)
    client.get(f"/m/maebashi/proposals/{proposal.pk}/")  # the municipality is cached
    with django_assert_num_queries(GROUP_COMMIT + 2):
        response = client.post(f"/m/maebashi/proposals/{proposal.pk}/sign/")
    assert response.status_code == 302
