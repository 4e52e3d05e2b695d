"""Issue 15, defect 5: a signature entered by a clerk reaches the resident's own page."""

from __future__ import annotations

from datetime import date

import pytest

from identity.keys import PersonFacts
from identity.models import Municipality, Role
from proposals import services
from tests.factories import ProposalFactory, ProposalTypeFactory, logged_in, staff, verified

pytestmark = pytest.mark.django_db


def _facts(resident_pk: int) -> PersonFacts:
    # What the factory's counter verification recorded for this resident.
    return PersonFacts(f"住民 {resident_pk}", date(1980, 4, 1), f"大手町{resident_pk}-1")


@pytest.mark.parametrize(
    ("channel", "label"), [("paper", "署名済み（紙）"), ("counter", "署名済み（窓口）")]
)
def test_clerks_entry_shows_as_signed_with_its_channel(
    town: Municipality, channel: str, label: str
) -> None:
    kind = ProposalTypeFactory(municipality=town, accepts_paper=True)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    resident = verified(town)
    client = logged_in(resident)
    before = client.get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert "この提案に署名する" in before and label not in before

    services.signature_add_offline(
        actor=staff(town, Role.COUNTER_CLERK),
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(_facts(resident.pk), channel, "S-1"),
    )
    page = client.get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert label in page
    assert "この提案に署名する" not in page
    assert f"/proposals/{proposal.pk}/sign/" not in page
    # A clerk's entry is not the resident's to withdraw online.
    assert "署名を取り消す" not in page


def test_online_signature_shows_as_signed_online(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    resident = verified(town)
    services.signature_add(actor=resident, municipality=town, proposal_id=proposal.pk)
    page = logged_in(resident).get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert "署名済み（オンライン）" in page and "この提案に署名する" not in page


def test_someone_elses_paper_signature_leaves_the_button(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, accepts_paper=True)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    other, resident = verified(town), verified(town)
    services.signature_add_offline(
        actor=staff(town, Role.COUNTER_CLERK),
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(_facts(other.pk), "paper", "S-1"),
    )
    page = logged_in(resident).get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert "この提案に署名する" in page and "署名済み" not in page
