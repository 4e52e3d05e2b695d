from __future__ import annotations

import pytest
from django.core.management import call_command

from identity.audit import audit_verify
from identity.demo import DEMO_PASSWORD
from identity.models import AuditEntry, Municipality, Role, RoleAssignment, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_documented_accounts_work() -> None:
    call_command("seed_demo")
    counts = (User.objects.count(), RoleAssignment.objects.count(), AuditEntry.objects.count())
    call_command("seed_demo")
    assert (
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEntry.objects.count(),
    ) == counts
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
    assert audit_verify() == []
