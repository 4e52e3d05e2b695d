"""The Django admin writes through the services: municipalities and account flags are audited.

`transaction=True`: the admin opens its own transaction around each change page, as in
production, so a service that could not run inside it would fail here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from identity.models import AuditEntry, Municipality, User
from tests.factories import PASSWORD, MunicipalityFactory, UserFactory, enable_totp

pytestmark = pytest.mark.django_db(transaction=True)


def _operator() -> Client:
    client = Client()
    operator = UserFactory(email="operator@example.jp", is_staff=True, is_superuser=True)
    enable_totp(operator)
    client.force_login(operator)
    return client


def test_the_admin_signs_in_through_allauth_with_two_step_verification() -> None:
    """Issue 13, point 3: the admin's own form had no second factor and no rate limit (30 wrong
    passwords, then the right one: in)."""
    operator = UserFactory(email="root@example.jp", is_staff=True, is_superuser=True)
    client = Client()
    for _attempt in range(30):
        client.post("/django-admin/login/", {"username": operator.email, "password": "wrong"})
    response = client.post(
        "/django-admin/login/", {"username": operator.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/django-admin/").status_code == 302
    # Signed in without two-step verification: still no admin.
    client.force_login(operator)
    refused = client.get("/django-admin/")
    assert refused.status_code == 302
    onward = client.get(refused["Location"])
    assert onward.status_code == 302 and onward["Location"].startswith(reverse("account_login"))
    enable_totp(operator)
    assert client.get("/django-admin/").status_code == 200


def _municipality_form(municipality: Municipality, **changes: Any) -> dict[str, Any]:
    form = {
        "slug": municipality.slug,
        "name": municipality.name,
        "name_en": municipality.name_en,
        "code": municipality.code,
        "host": municipality.host or "",
        "is_active": "on" if municipality.is_active else "",
        "verification_valid_days": municipality.verification_valid_days,
        "kind": municipality.kind,
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != ""}


def test_adding_a_municipality_goes_through_the_service() -> None:
    response = _operator().post(
        reverse("admin:identity_municipality_add"),
        {"slug": "takasaki", "name": "高崎市", "name_en": "Takasaki", "code": "102024"},
    )
    assert response.status_code == 302, response.content
    created = Municipality.objects.get(slug="takasaki")
    entry = AuditEntry.objects.get(action="municipality.create")
    assert entry.municipality_id == created.pk
    assert entry.actor is not None and entry.actor.email == "operator@example.jp"
    assert entry.data["code"] == "102024"


def test_changing_a_municipality_records_old_and_new() -> None:
    town = MunicipalityFactory(name_en="Maebashi")
    response = _operator().post(
        reverse("admin:identity_municipality_change", args=[town.pk]),
        _municipality_form(town, name_en="Maebashi City", verification_valid_days=400),
    )
    assert response.status_code == 302, response.content
    town.refresh_from_db()
    assert (town.name_en, town.verification_valid_days) == ("Maebashi City", 400)
    entry = AuditEntry.objects.get(action="municipality.change")
    assert entry.target_id == str(town.pk)
    assert entry.data["name_en"] == {"old": "Maebashi", "new": "Maebashi City"}
    assert set(entry.data) == {"name_en", "verification_valid_days"}


def test_the_operator_sets_the_kind_of_local_government() -> None:
    town = MunicipalityFactory()
    response = _operator().post(
        reverse("admin:identity_municipality_change", args=[town.pk]),
        _municipality_form(town, kind="designated_city"),
    )
    assert response.status_code == 302, response.content
    town.refresh_from_db()
    assert town.kind == "designated_city"
    entry = AuditEntry.objects.get(action="municipality.change")
    assert entry.data["kind"] == {"old": "municipality", "new": "designated_city"}


def _user_form(user: User, **flags: bool) -> dict[str, Any]:
    form: dict[str, Any] = {
        "email": user.email,
        "display_name": user.display_name,
        "last_login_0": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if flags.get(flag, getattr(user, flag)):
            form[flag] = "on"
    return form


def test_making_a_superuser_is_audited_on_the_site_chain() -> None:
    person = UserFactory(email="person@example.jp")
    response = _operator().post(
        reverse("admin:identity_user_change", args=[person.pk]),
        _user_form(person, is_staff=True, is_superuser=True),
    )
    assert response.status_code == 302, response.content
    person.refresh_from_db()
    assert person.is_staff and person.is_superuser
    entry = AuditEntry.objects.get(action="account.flags_change")
    assert entry.chain == AuditEntry.SITE_CHAIN and entry.municipality_id is None
    assert entry.target_id == str(person.pk)
    assert entry.data == {
        "is_staff": {"old": False, "new": True},
        "is_superuser": {"old": False, "new": True},
    }


def test_a_change_without_flags_leaves_no_flag_entry() -> None:
    person = UserFactory(email="person@example.jp", display_name="Before")
    form = _user_form(person)
    form["display_name"] = "After"
    response = _operator().post(reverse("admin:identity_user_change", args=[person.pk]), form)
    assert response.status_code == 302, response.content
    person.refresh_from_db()
    assert person.display_name == "After"
    assert not AuditEntry.objects.filter(action="account.flags_change").exists()


def test_staff_who_are_not_superusers_cannot_touch_the_flags() -> None:
    from django.contrib.auth.models import Permission

    clerk = UserFactory(email="clerk@example.jp", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_user", "view_user"])
    )
    person = UserFactory(email="person@example.jp")
    client = Client()
    client.force_login(clerk)
    response = client.post(
        reverse("admin:identity_user_change", args=[person.pk]),
        _user_form(person, is_staff=True, is_superuser=True),
    )
    assert response.status_code == 302, response.content
    person.refresh_from_db()
    assert not person.is_staff and not person.is_superuser
    assert not AuditEntry.objects.filter(action="account.flags_change").exists()


def test_the_service_refuses_operator_flags_from_plain_staff() -> None:
    from identity import services
    from identity.errors import PermissionDenied

    clerk = UserFactory(email="clerk@example.jp", is_staff=True)
    person = UserFactory(email="person@example.jp")
    with pytest.raises(PermissionDenied):
        services.account_flags_set(actor=clerk, user_id=person.pk, flags={"is_superuser": True})
    person.refresh_from_db()
    assert not person.is_superuser


def test_a_debate_moderator_passes_the_same_two_step_check_as_staff() -> None:
    from debates.permissions import can_moderate
    from tests.factories import DebateFactory

    town = MunicipalityFactory()
    helper = UserFactory()
    debate = DebateFactory(municipality=town, moderators=[helper])
    assert not can_moderate(helper, debate)
    assert can_moderate(helper, debate).code == "mfa_required"
    enable_totp(helper)
    assert can_moderate(helper, debate)
