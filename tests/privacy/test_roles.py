"""The roles docs/privacy.md names for a resident's name and address, and only those, see them on
the pages and exports that show them."""

from __future__ import annotations

import pytest
from django.test import Client

from identity.models import Municipality, Role, User
from identity.privacy import PERSONAL_FIELDS
from proposals import services
from tests.factories import ProposalFactory, ProposalTypeFactory, UserFactory, staff, verified
from tests.privacy.conftest import facts_of, reauthenticated
from tests.privacy.test_inventory import doc_rows

pytestmark = pytest.mark.django_db

MUNICIPAL_ROLES = [
    Role.ADMINISTRATOR,
    Role.COUNCIL,
    Role.ELECTION_OFFICE,
    Role.MODERATOR,
    Role.COUNTER_CLERK,
]
TESTED = frozenset({*MUNICIPAL_ROLES, "self", "public"})


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        return ""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize(
    "field", ["identity.Verification.legal_name", "identity.Verification.address"]
)
def test_only_the_documented_roles_see_a_residents_name_and_address(
    town: Municipality, field: str
) -> None:
    resident: User = verified(town)
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    services.signature_add(actor=resident, municipality=town, proposal_id=proposal.pk)
    facts = facts_of(resident)
    marker = facts.name if field.endswith("legal_name") else facts.address
    base = f"/m/{town.slug}"
    surfaces = [
        f"{base}/staff/counter/people/{resident.pk}/",
        f"{base}/staff/counter/?q={resident.email}",
        f"{base}/proposals/{proposal.pk}/signatories.csv",
        f"{base}/proposals/{proposal.pk}/",
        f"{base}/staff/audit.csv",
        "/account/my-data.json",
        "/account/",
    ]
    viewers: dict[str, Client] = {"public": Client()}
    for role in MUNICIPAL_ROLES:
        client = Client()
        client.force_login(staff(town, role))
        viewers[role] = client
    viewers["self"] = reauthenticated(resident)
    viewers["other resident"] = reauthenticated(UserFactory())

    seen = {
        who for who, client in viewers.items() for url in surfaces if marker in _body(client, url)
    }
    documented = doc_rows()[field]
    assert documented == PERSONAL_FIELDS[field]
    assert seen == documented & TESTED
