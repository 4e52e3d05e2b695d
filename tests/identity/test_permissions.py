from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from identity import permissions, services
from identity.models import Municipality, Role, User
from tests.factories import UserFactory, enable_totp, grant, staff

pytestmark = pytest.mark.django_db


def test_anonymous_is_asked_to_sign_in(maebashi: Municipality) -> None:
    decision = permissions.staff_access(AnonymousUser(), maebashi)
    assert not decision
    assert decision.code == "not_signed_in"
    assert str(decision.message)


def test_resident_without_role_is_refused(maebashi: Municipality, resident: User) -> None:
    assert permissions.can_open_staff_dashboard(resident, maebashi).code == "role_required"


def test_staff_without_mfa_is_sent_to_set_it_up(maebashi: Municipality) -> None:
    clerk = staff(maebashi, Role.COUNTER_CLERK, mfa=False)
    assert permissions.can_open_staff_dashboard(clerk, maebashi).code == "mfa_required"
    enable_totp(clerk)
    clerk = User.objects.get(pk=clerk.pk)
    assert permissions.can_open_staff_dashboard(clerk, maebashi).allowed


def test_role_in_another_municipality_gives_nothing_here(
    maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    assert permissions.can_manage_roles(admin, maebashi).allowed
    assert permissions.can_manage_roles(admin, kamakura).code == "role_required"


@pytest.mark.parametrize(
    ("role", "manage_roles", "dashboard"),
    [
        (Role.ADMINISTRATOR, True, True),
        (Role.COUNCIL, False, True),
        (Role.ELECTION_OFFICE, False, True),
        (Role.MODERATOR, False, True),
        (Role.COUNTER_CLERK, False, True),
    ],
)
def test_each_role(maebashi: Municipality, role: str, manage_roles: bool, dashboard: bool) -> None:
    user = staff(maebashi, role)
    assert bool(permissions.can_manage_roles(user, maebashi)) is manage_roles
    assert bool(permissions.can_view_audit_log(user, maebashi)) is manage_roles
    assert bool(permissions.can_open_staff_dashboard(user, maebashi)) is dashboard


def test_revoked_role_no_longer_counts(maebashi: Municipality, admin: User) -> None:
    moderator = staff(maebashi, Role.MODERATOR)
    assignment = moderator.role_assignments.get()
    services.role_revoke(actor=admin, assignment_id=assignment.pk, municipality=maebashi)
    fresh = User.objects.get(pk=moderator.pk)
    assert permissions.can_open_staff_dashboard(fresh, maebashi).code == "role_required"


def test_inactive_account_is_refused(maebashi: Municipality) -> None:
    user = staff(maebashi, Role.ADMINISTRATOR)
    user.is_active = False
    assert permissions.staff_access(user, maebashi).code == "account_inactive"


def test_no_municipality(resident: User) -> None:
    assert permissions.staff_access(resident, None).code == "no_municipality"


def test_last_administrator_cannot_be_revoked(maebashi: Municipality, admin: User) -> None:
    assignment = admin.role_assignments.get()
    assert permissions.can_revoke_role(admin, assignment).code == "last_administrator"
    second = UserFactory()
    grant(second, maebashi, Role.ADMINISTRATOR)
    assert permissions.can_revoke_role(admin, assignment).allowed


def test_every_reason_has_a_message_in_both_languages() -> None:
    from django.utils import translation

    for code in permissions.REASONS:
        with translation.override("en"):
            english = str(permissions.deny(code).message) if code != "ok" else "ok"
        with translation.override("ja"):
            japanese = str(permissions.REASONS[code])
        assert english and japanese
        if code != "ok":
            assert english != japanese, f"{code} is not translated to Japanese"
