from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from identity.errors import Conflict, PermissionDenied
from identity.keys import PersonFacts, identity_hash, person_hash
from identity.models import Municipality, RegisterEntry, ResidentRegister, Role
from proposals import services
from proposals.models import Signature
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db


def _register(town: Municipality, *people: PersonFacts) -> None:
    register = ResidentRegister.objects.create(
        municipality=town, reference_date=date(2026, 4, 1), row_count=len(people)
    )
    RegisterEntry.objects.bulk_create(
        RegisterEntry(
            register=register,
            key_hash=identity_hash("register", f"K{i}"),
            person_hash=person_hash(person, town.name),
            resident_since=date(2000, 1, 1),
        )
        for i, person in enumerate(people)
    )


def test_paper_signature_matched_against_the_register(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, accepts_paper=True)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    clerk = staff(town, Role.COUNTER_CLERK)
    elder = PersonFacts("高齢 花子", date(1940, 3, 3), "前橋市大手町二丁目1番1号")
    _register(town, elder)
    result = services.signature_add_offline(
        actor=clerk,
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(
            PersonFacts("高齢　花子", date(1940, 3, 3), "大手町2-1-1"), "paper", "S-001"
        ),
    )
    signature = result.signature
    assert result.count == 1 and signature.user is None and signature.sheet == "S-001"
    assert signature.entered_by == clerk and signature.age_bracket == "80+"
    with pytest.raises(Conflict):  # the same person again, from another sheet
        services.signature_add_offline(
            actor=clerk,
            municipality=town,
            proposal_id=proposal.pk,
            entry=services.OfflineSignature(elder, "paper", "S-002"),
        )


def test_counter_signature_of_a_verified_resident_blocks_their_online_signature(
    town: Municipality,
) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    clerk = staff(town, Role.COUNTER_CLERK)
    resident = verified(town)
    facts = PersonFacts(f"住民 {resident.pk}", date(1980, 4, 1), f"大手町{resident.pk}-1")
    services.signature_add_offline(
        actor=clerk,
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(facts, "counter"),
    )
    with pytest.raises(Conflict) as error:
        services.signature_add(actor=resident, municipality=town, proposal_id=proposal.pk)
    assert error.value.code == "already_signed"
    assert Signature.objects.count() == 1


def test_unknown_or_ineligible_people_are_refused_and_nothing_changes(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, accepts_paper=True)
    proposal = ProposalFactory(type=kind, author=verified(town), collecting=True)
    clerk = staff(town, Role.COUNTER_CLERK)
    today = timezone.localdate()
    teen = PersonFacts("若者 太郎", today.replace(year=today.year - 16), "大手町1-1")
    _register(town, teen)
    for facts, code in [
        (PersonFacts("不明 次郎", date(1970, 1, 1), "大手町9-9"), "not_resident"),
        (teen, "under_age"),
    ]:
        with pytest.raises(PermissionDenied) as error:
            services.signature_add_offline(
                actor=clerk,
                municipality=town,
                proposal_id=proposal.pk,
                entry=services.OfflineSignature(facts, "paper", "S-9"),
            )
        assert error.value.code == code
    assert Signature.objects.count() == 0


def test_only_counter_clerks_enter_signatures_and_only_accepted_channels(
    town: Municipality,
) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )  # paper not accepted
    moderator = staff(town, Role.MODERATOR)
    facts = PersonFacts("誰か", date(1970, 1, 1), "大手町1-1")
    with pytest.raises(PermissionDenied):
        services.signature_add_offline(
            actor=moderator,
            municipality=town,
            proposal_id=proposal.pk,
            entry=services.OfflineSignature(facts, "counter"),
        )
    clerk = staff(town, Role.COUNTER_CLERK)
    with pytest.raises(Conflict) as error:
        services.signature_add_offline(
            actor=clerk,
            municipality=town,
            proposal_id=proposal.pk,
            entry=services.OfflineSignature(facts, "paper", "S-1"),
        )
    assert error.value.code == "channel_not_accepted"
