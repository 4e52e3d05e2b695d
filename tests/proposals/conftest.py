from __future__ import annotations

import pytest

from identity.models import Municipality, User
from proposals.models import Proposal, ProposalType
from tests.factories import MunicipalityFactory, ProposalFactory, ProposalTypeFactory
from tests.factories import verified as verified


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")


# Kept only for test_sign_fastpath.py, test_signature_batch.py and tests/voting/test_store_many.py,
# which import them from here and are being rewritten on another branch: everything else uses
# tests/factories.py (`verified`, `ProposalTypeFactory`, `ProposalFactory(collecting=True)`).
# Remove these once those files import from tests/factories.py.


def citizen_type(municipality: Municipality, **overrides: object) -> ProposalType:
    return ProposalTypeFactory(municipality=municipality, **overrides)


def collecting(municipality: Municipality, proposal_type: ProposalType, author: User) -> Proposal:
    return ProposalFactory(
        municipality=municipality, type=proposal_type, author=author, collecting=True
    )
