from __future__ import annotations

from datetime import date

import pytest

from identity import services as identity_services
from identity.keys import PersonFacts
from identity.models import Municipality, Role, User
from proposals.models import Proposal, ProposalType
from proposals.services import ProposalDraft, collection_open, proposal_file
from tests.factories import MunicipalityFactory, UserFactory, staff


def verified(
    municipality: Municipality, *, birth: date = date(1980, 4, 1), **kwargs: object
) -> User:
    """A resident verified at the counter of `municipality`."""
    user = UserFactory(**kwargs)
    clerk = getattr(municipality, "_test_clerk", None)
    if clerk is None:
        clerk = staff(municipality, Role.COUNTER_CLERK)
        municipality._test_clerk = clerk
    identity_services.verification_by_counter(
        actor=clerk,
        municipality=municipality,
        user=user,
        person=PersonFacts(f"住民 {user.pk}", birth, f"大手町{user.pk}-1"),
        document_type="my_number_card",
    )
    return user


def citizen_type(municipality: Municipality, **overrides: object) -> ProposalType:
    values: dict[str, object] = {
        "municipality": municipality,
        "name": "市民政策提案",
        "threshold_fixed": 10,
        "collection_days": 60,
        "min_age": 18,
    }
    values.update(overrides)
    return ProposalType.objects.create(**values)


def collecting(municipality: Municipality, proposal_type: ProposalType, author: User) -> Proposal:
    proposal = proposal_file(
        actor=author,
        municipality=municipality,
        type_id=proposal_type.pk,
        draft=ProposalDraft(
            title="子育て支援の充実", summary="保育所を増やす", body="# 提案\n本文"
        ),
    )
    return collection_open(actor=author, municipality=municipality, proposal_id=proposal.pk)


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
