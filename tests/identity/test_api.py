from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from identity.models import AuditEntry, Municipality, Role, RoleAssignment, User
from identity.totp import totp_code, totp_secret_of
from tests.factories import PASSWORD, UserFactory, staff

pytestmark = pytest.mark.django_db


def _json(response: Any) -> Any:
    return json.loads(response.content)


def test_openapi_schema_is_valid_openapi_3(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = _json(response)
    assert schema["openapi"].startswith("3.")
    validate(schema)
    for path in ("/api/v1/municipalities", "/api/v1/me", "/api/v1/municipalities/{slug}/roles"):
        assert path in schema["paths"]


def test_human_docs_are_served(client: Client) -> None:
    assert client.get("/api/v1/docs").status_code == 200


def test_municipalities_are_public(
    client: Client, maebashi: Municipality, kamakura: Municipality
) -> None:
    data = _json(client.get("/api/v1/municipalities"))
    assert [m["slug"] for m in data] == ["maebashi", "kamakura"]
    assert _json(client.get("/api/v1/municipalities/kamakura"))["name"] == "鎌倉市"
    missing = client.get("/api/v1/municipalities/nowhere")
    assert missing.status_code == 404 and _json(missing)["code"] == "not_found"


def test_me_needs_authentication(client: Client) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert _json(response)["code"] == "not_signed_in"


def test_me_with_browser_session(maebashi: Municipality, admin: User) -> None:
    client = Client()
    client.force_login(admin)
    data = _json(client.get("/api/v1/me"))
    assert data["email"] == admin.email and data["mfa_enabled"] is True
    assert data["roles"] == [
        {
            "id": admin.role_assignments.get().pk,
            "municipality": "maebashi",
            "role": "administrator",
            "user_email": admin.email,
            "granted_at": data["roles"][0]["granted_at"],
        }
    ]


def _totp_code(user: User) -> str:
    return totp_code(totp_secret_of(user))


def _app_token(client: Client, email: str) -> str:
    """Sign in as an API client would: allauth's headless app login (and its second step when the
    account has MFA) returns a session token."""
    response = client.post(
        "/_allauth/app/v1/auth/login",
        data=json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    token: str = _json(response)["meta"]["session_token"]
    if response.status_code == 401:  # MFA pending
        response = client.post(
            "/_allauth/app/v1/auth/2fa/authenticate",
            data=json.dumps({"code": _totp_code(User.objects.get(email=email))}),
            content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )
        token = _json(response)["meta"]["session_token"]
    assert response.status_code == 200, response.content
    return token


def test_me_with_headless_app_token(resident: User) -> None:
    client = Client()
    token = _app_token(client, resident.email)
    fresh = Client()  # no cookies: the token alone authenticates
    response = fresh.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200
    assert _json(response)["email"] == resident.email
    assert fresh.get("/api/v1/me", HTTP_X_SESSION_TOKEN="forged").status_code == 401


def test_role_endpoints_for_an_administrator(maebashi: Municipality, admin: User) -> None:
    target = UserFactory()
    client = Client()
    token = _app_token(client, admin.email)
    headers = {"HTTP_X_SESSION_TOKEN": token}
    created = client.post(
        "/api/v1/municipalities/maebashi/roles",
        data=json.dumps({"email": target.email, "role": "moderator"}),
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 201, created.content
    assignment_id = _json(created)["id"]
    again = client.post(
        "/api/v1/municipalities/maebashi/roles",
        data=json.dumps({"email": target.email, "role": "moderator"}),
        content_type="application/json",
        **headers,
    )
    assert again.status_code == 409 and _json(again)["code"] == "role_held"
    listed = _json(client.get("/api/v1/municipalities/maebashi/roles", **headers))
    assert {r["user_email"] for r in listed} == {admin.email, target.email}
    deleted = client.delete(f"/api/v1/municipalities/maebashi/roles/{assignment_id}", **headers)
    assert deleted.status_code == 200
    assert not RoleAssignment.objects.active().filter(pk=assignment_id).exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "x@example.jp", "role": "emperor"}, 422, "invalid"),
        ({"role": "moderator"}, 422, "invalid"),
        ({"email": "nobody@example.jp", "role": "moderator"}, 404, "user_not_found"),
    ],
)
def test_bad_role_requests_change_nothing(
    maebashi: Municipality, admin: User, body: dict[str, str], status: int, code: str
) -> None:
    client = Client()
    token = _app_token(client, admin.email)
    before = (RoleAssignment.objects.count(), AuditEntry.objects.count())
    response = client.post(
        "/api/v1/municipalities/maebashi/roles",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert response.status_code == status
    assert _json(response)["code"] == code and _json(response)["message"]
    assert (RoleAssignment.objects.count(), AuditEntry.objects.count()) == before


def test_malformed_json_is_a_clear_error(maebashi: Municipality, admin: User) -> None:
    client = Client()
    token = _app_token(client, admin.email)
    response = client.post(
        "/api/v1/municipalities/maebashi/roles",
        data="{not json",
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert response.status_code == 400
    assert _json(response) == {
        "code": "bad_request",
        "message": "リクエストの本文が正しい JSON ではありません。",
    }


def test_role_endpoints_refuse_others_with_reason(
    maebashi: Municipality, kamakura: Municipality, admin: User
) -> None:
    client = Client()
    token = _app_token(client, admin.email)
    response = client.get("/api/v1/municipalities/kamakura/roles", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 403 and _json(response)["code"] == "role_required"
    clerk = staff(maebashi, Role.COUNTER_CLERK, mfa=False)
    token = _app_token(Client(), clerk.email)
    response = Client().get("/api/v1/municipalities/maebashi/roles", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 403 and _json(response)["code"] == "role_required"


def test_session_writes_need_csrf(maebashi: Municipality, admin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(
        "/api/v1/municipalities/maebashi/roles",
        data=json.dumps({"email": admin.email, "role": "moderator"}),
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not RoleAssignment.objects.filter(role=Role.MODERATOR).exists()


@pytest.mark.parametrize("register_date", ["0", "1700000000", "2024-4-1", "20240401"])
def test_a_register_date_is_a_calendar_date_or_refused(
    maebashi: Municipality, resident: User, register_date: str
) -> None:
    """pydantic alone would take `0` as 1970-01-01 (seconds since the epoch)."""
    client = Client()
    client.force_login(resident)
    url = "/api/v1/municipalities/maebashi/eligibility"
    refused = client.get(url, {"register_date": register_date})
    assert refused.status_code == 422, refused.content
    assert _json(refused)["code"] == "invalid"
    assert [e["loc"] for e in _json(refused)["errors"]] == [["query", "register_date"]]
    assert client.get(url, {"register_date": "2024-04-01"}).status_code == 200


def test_identity_and_voting_eligibility_are_two_schemas(client: Client) -> None:
    """Two schema classes of one name collapse into one in OpenAPI: each has its own name."""
    schema = _json(client.get("/api/v1/openapi.json"))
    base = "/api/v1/municipalities/{slug}"

    def body(path: str) -> str:
        ref: str = schema["paths"][base + path]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]["$ref"]
        return ref.rsplit("/", 1)[1]

    assert body("/eligibility") == "ResidentEligibilityOut"
    assert body("/elections/{election_id}/eligibility") == "ElectionEligibilityOut"
    components = schema["components"]["schemas"]
    assert "age_bracket" in components["ResidentEligibilityOut"]["properties"]
    assert "can_cast_now" in components["ElectionEligibilityOut"]["properties"]


def test_a_slug_with_nul_is_404_not_a_database_error(maebashi: Municipality) -> None:
    response = Client().get("/api/v1/municipalities/mae%00bashi")
    assert response.status_code == 404 and _json(response)["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_cached_municipality_is_answered_without_a_thread_hop(maebashi: Municipality) -> None:
    """The framework floor's endpoint: only Django's ASGI handler's own two hops remain."""
    import asyncio

    from asgiref.sync import SyncToAsync

    from tests.asgi import asgi_call

    path = "/api/v1/municipalities/maebashi"
    asyncio.run(asgi_call(path, method="GET"))  # fills the per-process cache
    hops: list[Any] = []
    original = SyncToAsync.__call__

    async def recording(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    SyncToAsync.__call__ = recording
    try:
        reply = asyncio.run(asgi_call(path, method="GET"))
    finally:
        SyncToAsync.__call__ = original
    assert reply.status == 200 and reply.body["slug"] == "maebashi"
    modules = sorted(getattr(f, "__module__", "?") for f in hops)
    assert modules == ["django.dispatch.dispatcher", "django.http.response"]
