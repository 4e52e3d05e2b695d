from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from identity.audit import audit_seal
from identity.models import AuditEntry, Municipality, Role, RoleAssignment, User
from tests.factories import PASSWORD, UserFactory, logged_in, staff

pytestmark = pytest.mark.django_db


def test_root_lists_municipalities(
    client: Client, maebashi: Municipality, kamakura: Municipality
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "前橋市" in body and "鎌倉市" in body
    assert 'href="/m/maebashi/"' in body


def test_municipality_home_by_prefix_and_by_host(client: Client, maebashi: Municipality) -> None:
    assert client.get("/m/maebashi/").status_code == 200
    assert client.get("/m/maebashi").status_code == 301
    assert client.get("/m/nowhere/").status_code == 404
    maebashi.host = "participate.maebashi.example.jp"
    maebashi.save(update_fields=["host"])
    response = client.get("/", HTTP_HOST="participate.maebashi.example.jp")
    assert response.status_code == 200
    assert response.context["municipality"] == maebashi
    # Links generated on a municipality's own host carry no /m/ prefix.
    assert 'href="/accounts/login/"' in response.content.decode()


def test_prefix_links_keep_the_municipality(client: Client, maebashi: Municipality) -> None:
    body = client.get("/m/maebashi/").content.decode()
    assert 'href="/m/maebashi/accounts/login/"' in body
    assert 'action="/m/maebashi/i18n/setlang/"' in body


def test_a_municipality_host_cannot_reach_another_municipality(
    client: Client, maebashi: Municipality, kamakura: Municipality
) -> None:
    maebashi.host = "participate.maebashi.example.jp"
    maebashi.save(update_fields=["host"])
    response = client.get("/m/kamakura/", HTTP_HOST="participate.maebashi.example.jp")
    assert response.status_code == 404


def test_staff_page_sends_anonymous_to_login(client: Client, maebashi: Municipality) -> None:
    response = client.get("/m/maebashi/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/m/maebashi/accounts/login/")


def test_staff_without_mfa_is_sent_to_mfa_setup(maebashi: Municipality) -> None:
    clerk = staff(maebashi, Role.COUNTER_CLERK, mfa=False)
    response = logged_in(clerk).get("/m/maebashi/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/m/maebashi/accounts/2fa/totp/activate/"


def test_resident_gets_403_with_reason(maebashi: Municipality, resident: User) -> None:
    response = logged_in(resident).get("/m/maebashi/staff/")
    assert response.status_code == 403
    assert 'data-reason="role_required"' in response.content.decode()


def test_staff_pages_do_not_exist_outside_a_municipality(admin: User) -> None:
    assert logged_in(admin).get("/staff/").status_code == 404


def test_grant_and_revoke_through_the_staff_page(maebashi: Municipality, admin: User) -> None:
    target = UserFactory(email="new.moderator@example.jp")
    client = logged_in(admin)
    response = client.post(
        "/m/maebashi/staff/roles/", {"email": "NEW.moderator@example.jp", "role": Role.MODERATOR}
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.active().get(user=target)
    assert assignment.role == Role.MODERATOR and assignment.granted_by == admin
    entry = AuditEntry.objects.get(action="role.grant", target_id=str(assignment.pk))
    assert entry.actor == admin and entry.municipality == maebashi
    response = client.post(f"/m/maebashi/staff/roles/{assignment.pk}/revoke/")
    assert response.status_code == 302
    assert not RoleAssignment.objects.active().filter(user=target).exists()
    assert AuditEntry.objects.filter(action="role.revoke", target_id=str(assignment.pk)).exists()


def test_bad_grant_shows_an_error_and_changes_nothing(maebashi: Municipality, admin: User) -> None:
    client = logged_in(admin)
    before = (RoleAssignment.objects.count(), AuditEntry.objects.count())
    for data in (
        {"email": "nobody@example.jp", "role": Role.MODERATOR},
        {"email": "not-an-email", "role": Role.MODERATOR},
        {"email": admin.email, "role": "emperor"},
        {"email": admin.email, "role": Role.ADMINISTRATOR},
    ):
        response = client.post("/m/maebashi/staff/roles/", data)
        assert response.status_code == 422, data
        assert response.context["form"].errors
    assert (RoleAssignment.objects.count(), AuditEntry.objects.count()) == before


def test_revoke_needs_post(maebashi: Municipality, admin: User) -> None:
    assignment = admin.role_assignments.get()
    assert (
        logged_in(admin).get(f"/m/maebashi/staff/roles/{assignment.pk}/revoke/").status_code == 405
    )


def test_last_administrator_revoke_is_refused_with_message(
    maebashi: Municipality, admin: User
) -> None:
    assignment = admin.role_assignments.get()
    response = logged_in(admin).post(
        f"/m/maebashi/staff/roles/{assignment.pk}/revoke/", follow=True
    )
    assert RoleAssignment.objects.active().filter(pk=assignment.pk).exists()
    assert any(
        "administrator" in str(m).lower() or "管理者" in str(m)
        for m in response.context["messages"]
    )


STAFF_URLS = ["/staff/", "/staff/roles/", "/staff/settings/", "/staff/audit/", "/staff/audit.csv"]


@pytest.mark.parametrize("path", STAFF_URLS)
def test_cross_municipality_isolation_of_every_staff_view(
    path: str, maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    """An administrator of 前橋市 can open each staff page there and none of 鎌倉市's."""
    client = logged_in(admin)
    assert client.get(f"/m/maebashi{path}").status_code == 200
    response = client.get(f"/m/kamakura{path}")
    assert response.status_code == 403


def test_cannot_revoke_another_municipalitys_role(
    maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    other = staff(kamakura, Role.MODERATOR)
    assignment = other.role_assignments.get()
    client = logged_in(admin)
    # Through the own municipality's URL the other's assignment does not exist …
    response = client.post(f"/m/maebashi/staff/roles/{assignment.pk}/revoke/", follow=True)
    assert response.status_code == 200
    # … and through the other's URL the administrator has no right.
    assert client.post(f"/m/kamakura/staff/roles/{assignment.pk}/revoke/").status_code == 403
    assert RoleAssignment.objects.active().filter(pk=assignment.pk).exists()


def test_audit_log_shows_only_own_municipality(
    maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    staff(kamakura, Role.MODERATOR, email="kamakura.mod@example.jp")
    staff(maebashi, Role.COUNCIL, email="maebashi.council@example.jp")
    audit_seal()
    body = logged_in(admin).get("/m/maebashi/staff/audit/").content.decode()
    assert "role.grant" in body
    assert "kamakura.mod@example.jp" not in body and "maebashi.council" not in body  # data has ids


def test_audit_filters(maebashi: Municipality, admin: User) -> None:
    staff(maebashi, Role.COUNCIL)
    client = logged_in(admin)
    page = client.get("/m/maebashi/staff/audit/", {"action": "role.grant"}).context["page"]
    assert page.object_list and all(e.action == "role.grant" for e in page.object_list)
    page = client.get("/m/maebashi/staff/audit/", {"action": "nothing"}).context["page"]
    assert list(page.object_list) == []
    response = client.get(
        "/m/maebashi/staff/audit/", {"date_from": "2030-01-02", "date_to": "2030-01-01"}
    )
    assert response.context["form"].errors


def test_audit_csv_is_excel_friendly_and_formula_safe(maebashi: Municipality, admin: User) -> None:
    from django.db import transaction

    from identity.audit import audit_record

    with transaction.atomic():
        audit_record(actor=admin, municipality=maebashi, action="=cmd|' /C calc'!A0")
    response = logged_in(admin).get("/m/maebashi/staff/audit.csv")
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "time", "municipality"]
    actions = [row[5] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in actions
    assert all("+09:00" in row[1] for row in rows[1:])


def test_account_page_and_profile_update(resident: User) -> None:
    client = logged_in(resident)
    assert client.get("/account/").status_code == 200
    response = client.post("/account/", {"display_name": "  前橋 花子 "})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.display_name == "前橋 花子"
    assert AuditEntry.objects.filter(action="account.profile_update", actor=resident).exists()
    response = client.post("/account/", {"display_name": "x" * 61})
    assert response.status_code == 200 and response.context["form"].errors


def test_account_page_says_my_data_once_and_not_in_its_title(resident: User) -> None:
    # A merge once pasted the "My data" section into the title block as well.
    html = logged_in(resident).get("/account/").content.decode()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<section" not in title and "account_export" not in title
    assert html.count('id="data-heading"') == 1


def test_login_with_password(client: Client, maebashi: Municipality, resident: User) -> None:
    response = client.post(
        "/m/maebashi/accounts/login/", {"login": resident.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("identity:account")).status_code == 200


def test_administrator_sets_verification_validity(
    maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    client = logged_in(admin)
    assert client.get("/m/maebashi/staff/settings/").status_code == 200
    response = client.post("/m/maebashi/staff/settings/", {"verification_valid_days": "730"})
    assert response.status_code == 302
    maebashi.refresh_from_db()
    assert maebashi.verification_valid_days == 730
    entry = AuditEntry.objects.get(action="municipality.settings_update")
    assert entry.data == {"verification_valid_days": {"old": 1095, "new": 730}}
    for bad in ("5", "99999", "x", ""):
        assert (
            client.post("/m/maebashi/staff/settings/", {"verification_valid_days": bad}).status_code
            == 422
        )
    maebashi.refresh_from_db()
    assert maebashi.verification_valid_days == 730
    assert (
        client.post("/m/kamakura/staff/settings/", {"verification_valid_days": "60"}).status_code
        == 403
    )
    moderator = staff(maebashi, Role.MODERATOR)
    assert logged_in(moderator).get("/m/maebashi/staff/settings/").status_code == 403


def test_the_api_on_a_municipality_host_serves_that_municipality_only(
    client: Client, maebashi: Municipality, kamakura: Municipality
) -> None:
    """As for pages: on 前橋市's own host, 鎌倉市's API paths do not exist (JSON 404), reads and
    writes alike; 前橋市's do, and on the main host both do."""
    maebashi.host = "participate.maebashi.example.jp"
    maebashi.save(update_fields=["host"])
    host = {"HTTP_HOST": "participate.maebashi.example.jp", "HTTP_ACCEPT_LANGUAGE": "en"}
    for path in ("/api/v1/municipalities/kamakura", "/api/v1/municipalities/kamakura/proposals"):
        response = client.get(path, **host)
        assert response.status_code == 404, path
        assert response.json() == {"code": "not_found", "message": "Not found."}
    write = client.post("/api/v1/municipalities/kamakura/proposals/1/signature", **host)
    assert write.status_code == 404
    assert client.get("/api/v1/municipalities/maebashi", **host).status_code == 200
    assert client.get("/api/v1/municipalities/kamakura").status_code == 200
