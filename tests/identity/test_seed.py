from __future__ import annotations

import pytest
from allauth.mfa.utils import is_mfa_enabled
from django.core.management import call_command
from django.utils import timezone

from identity.audit import audit_verify
from identity.demo import DEMO_PASSWORD
from identity.eligibility import EligibilityRule, act_date, eligibility, legal_age
from identity.models import (
    AuditEntry,
    Municipality,
    Role,
    RoleAssignment,
    User,
    Verification,
    VerificationMethod,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded_twice() -> None:
    """The demo data, seeded twice: the second run must change nothing (it is slow, so once)."""
    call_command("seed_demo")
    counts = _counts()
    call_command("seed_demo")
    assert _counts() == counts


def _counts() -> tuple[int, ...]:
    from proposals.models import Proposal, Signature

    return (
        User.objects.count(),
        RoleAssignment.objects.count(),
        Verification.objects.count(),
        Proposal.objects.count(),
        Signature.objects.count(),
        AuditEntry.objects.count(),
    )


def test_seed_demo_is_idempotent_and_complete(seeded_twice: None) -> None:
    """Documented accounts, verified residents with every eligibility answer, proposals in every
    state, an intact audit log."""
    assert set(Municipality.objects.values_list("slug", flat=True)) == {"maebashi", "kamakura"}
    for slug in ("maebashi", "kamakura"):
        for local, role in (
            ("admin", Role.ADMINISTRATOR),
            ("council", Role.COUNCIL),
            ("election", Role.ELECTION_OFFICE),
            ("moderator", Role.MODERATOR),
            ("counter", Role.COUNTER_CLERK),
        ):
            user = User.objects.get(email=f"{local}@{slug}.example.jp")
            assert user.check_password(DEMO_PASSWORD)
            assert is_mfa_enabled(user)
            assert (
                RoleAssignment.objects.active()
                .filter(user=user, municipality__slug=slug, role=role)
                .exists()
            )
        assert (
            User.objects.filter(
                email__startswith="resident", email__endswith=f"@{slug}.example.jp"
            ).count()
            == 20
        )

    now = timezone.now()
    for slug in ("maebashi", "kamakura"):
        municipality = Municipality.objects.get(slug=slug)
        residents = Verification.objects.active().filter(
            municipality=municipality, user__email__startswith="resident"
        )
        assert residents.count() == 20
        assert set(residents.values_list("method", flat=True)) == set(VerificationMethod.values)
        ages = sorted(legal_age(v.birth_date, act_date(now)) for v in residents)
        assert ages[0] == 18 and ages[-1] == 90
        assert len(set(ages)) == 20
        assert residents.filter(method=VerificationMethod.COUNTER).exclude(document_type="").count()
        for user in User.objects.filter(
            email__startswith="resident", email__endswith=slug + ".example.jp"
        ):
            assert eligibility(user, municipality, now, EligibilityRule()).allowed
        expected = {
            "teen": "under_age",
            "unverified": "not_verified",
            "elsewhere": "not_resident",
            "expired": "verification_expired",
            "revoked": "verification_revoked",
        }
        for local, code in expected.items():
            user = User.objects.get(email=f"{local}@{slug}.example.jp")
            assert user.check_password(DEMO_PASSWORD)
            assert eligibility(user, municipality, now, EligibilityRule()).code == code, local
        teen = User.objects.get(email=f"teen@{slug}.example.jp")
        assert legal_age(teen.verifications.get().birth_date, act_date(now)) == 17
        elsewhere = User.objects.get(email=f"elsewhere@{slug}.example.jp")
        other = elsewhere.verifications.get().municipality
        assert other != municipality
        assert eligibility(elsewhere, other, now, EligibilityRule()).allowed
    assert audit_verify() == []

    from proposals.models import Proposal, Status

    for slug in ("maebashi", "kamakura"):
        states = set(
            Proposal.objects.filter(municipality__slug=slug).values_list("status", flat=True)
        )
        assert states == set(Status.values)
