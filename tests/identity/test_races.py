"""Invariants under real concurrency, against PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import transaction

from identity import services
from identity.audit import audit_record, audit_seal, audit_verify, chain_of
from identity.errors import Conflict, PermissionDenied
from identity.models import AuditEntry, Municipality, Role, RoleAssignment
from tests.concurrency import run_concurrently
from tests.factories import MunicipalityFactory, UserFactory, grant, staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_writers_and_sealers_build_one_gapless_chain() -> None:
    municipality = MunicipalityFactory()
    per_writer, writers = 40, 6

    def work(index: int) -> int:
        if index % 3 == 2:  # a third of the threads keep sealing while the others write
            return sum(audit_seal() for _ in range(15))
        for i in range(per_writer):
            with transaction.atomic():
                audit_record(
                    actor=None, municipality=municipality, action="race", data={"w": index, "i": i}
                )
        return per_writer

    outcomes = run_concurrently(work, writers)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    audit_seal()
    expected = per_writer * len([i for i in range(writers) if i % 3 != 2])
    seqs = [
        entry.seq
        for entry in AuditEntry.objects.filter(chain=chain_of(municipality)).order_by("seq")
    ]
    assert seqs == list(range(1, expected + 1))
    assert audit_verify() == []


def test_concurrent_grants_of_the_same_role_give_one_assignment() -> None:
    municipality = MunicipalityFactory()
    target = UserFactory()

    def work(_: int) -> object:
        return services.role_grant(
            actor=None, municipality=municipality, email=target.email, role=Role.MODERATOR
        )

    outcomes = run_concurrently(work, 6)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 5, outcomes
    assert RoleAssignment.objects.active().filter(user=target, role=Role.MODERATOR).count() == 1
    assert AuditEntry.objects.filter(action="role.grant", municipality=municipality).count() == 1


def test_two_administrators_revoking_each_other_leave_one() -> None:
    municipality: Municipality = MunicipalityFactory()
    first = staff(municipality, Role.ADMINISTRATOR)
    second = UserFactory()
    grant(second, municipality, Role.ADMINISTRATOR)
    from tests.factories import enable_totp

    enable_totp(second)
    a1 = first.role_assignments.get()
    a2 = second.role_assignments.get()
    pairs = [(first, a2), (second, a1)]

    def work(index: int) -> object:
        actor, assignment = pairs[index]
        return services.role_revoke(
            actor=actor, assignment_id=assignment.pk, municipality=municipality
        )

    outcomes = run_concurrently(work, 2)
    refused = [o for o in outcomes if isinstance(o, PermissionDenied)]
    assert len(refused) == 1, outcomes
    assert refused[0].code in {"last_administrator", "role_required"}
    assert (
        RoleAssignment.objects.active()
        .filter(municipality=municipality, role=Role.ADMINISTRATOR)
        .count()
        == 1
    )


def test_two_accounts_verifying_as_the_same_person_at_once_give_one_verification() -> None:
    from datetime import date

    from identity.keys import PersonFacts
    from identity.models import Verification

    municipality = MunicipalityFactory()
    clerks = [staff(municipality, Role.COUNTER_CLERK) for _ in range(2)]
    accounts = [UserFactory() for _ in range(6)]
    person = PersonFacts("前橋 太郎", date(1970, 4, 1), "大手町二丁目12番1号")

    def work(index: int) -> object:
        return services.verification_by_counter(
            actor=clerks[index % 2],
            municipality=municipality,
            user=accounts[index],
            person=person,
            document_type="my_number_card",
        )

    outcomes = run_concurrently(work, len(accounts))
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == len(accounts) - 1, outcomes
    assert {o.code for o in refused} == {"identity_in_use"}
    assert Verification.objects.active().filter(municipality=municipality).count() == 1
    assert AuditEntry.objects.filter(action="verification.create").count() == 1
