from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from identity import services
from identity.keys import PersonFacts
from identity.models import DocumentType, EndReason, Municipality, Role, User, Verification
from tests.factories import logged_in, staff

pytestmark = pytest.mark.django_db

VERIFICATION = "/api/v1/municipalities/maebashi/verification"
ELIGIBILITY = "/api/v1/municipalities/maebashi/eligibility"


def _json(response: Any) -> Any:
    return json.loads(response.content)


@pytest.fixture
def clerk(maebashi: Municipality) -> User:
    return staff(maebashi, Role.COUNTER_CLERK)


def _born(age: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - age, day=min(today.day, 28)) - timedelta(days=10)


def _verify(clerk: User, user: User, municipality: Municipality, age: int = 40) -> Verification:
    return services.verification_by_counter(
        actor=clerk,
        municipality=municipality,
        user=user,
        person=PersonFacts("佐藤 花子", _born(age), "大手町2-12-1"),
        document_type=DocumentType.PASSPORT,
        resident_since=date(2020, 4, 1),
    )


def test_schema_stays_valid_and_lists_the_new_paths(client: Client) -> None:
    schema = _json(client.get("/api/v1/openapi.json"))
    validate(schema)
    assert "/api/v1/municipalities/{slug}/verification" in schema["paths"]
    eligibility = schema["paths"]["/api/v1/municipalities/{slug}/eligibility"]["get"]
    names = {p["name"] for p in eligibility["parameters"]}
    assert {"slug", "min_age", "methods", "register_date", "residence_required"} <= names
    out = schema["components"]["schemas"]["VerificationOut"]["properties"]
    assert set(out) == {"status", "method", "verified_at", "expires_at"}


def test_both_need_sign_in(client: Client, maebashi: Municipality) -> None:
    for url in (VERIFICATION, ELIGIBILITY):
        response = client.get(url)
        assert response.status_code == 401 and _json(response)["code"] == "not_signed_in"


def test_unknown_municipality_is_404(resident: User) -> None:
    response = logged_in(resident).get("/api/v1/municipalities/nowhere/verification")
    assert response.status_code == 404 and _json(response)["code"] == "not_found"


def test_verification_of_the_signed_in_person_only(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    client = logged_in(resident)
    assert _json(client.get(VERIFICATION)) == {
        "status": "not_verified",
        "method": "",
        "verified_at": None,
        "expires_at": None,
    }
    verification = _verify(clerk, resident, maebashi)
    data = _json(client.get(VERIFICATION))
    assert data["status"] == "verified" and data["method"] == "counter"
    assert data["verified_at"] and data["expires_at"]
    assert set(data) == {"status", "method", "verified_at", "expires_at"}
    assert "佐藤" not in json.dumps(data, ensure_ascii=False)
    services.verification_revoke(
        actor=clerk,
        municipality=maebashi,
        verification_id=verification.pk,
        reason=EndReason.MOVED_OUT,
    )
    assert _json(client.get(VERIFICATION))["status"] == "moved_out"
    # The clerk asking sees their own (absent) verification, not the resident's.
    assert _json(logged_in(clerk).get(VERIFICATION))["status"] == "not_verified"


@pytest.mark.parametrize(
    ("query", "allowed", "code"),
    [
        ({}, True, "eligible"),
        ({"min_age": "18"}, True, "eligible"),
        ({"min_age": "50"}, False, "under_age"),
        ({"min_age": "0"}, True, "eligible"),
        ({"methods": "oidc,register"}, False, "method_not_accepted"),
        ({"methods": "counter"}, True, "eligible"),
        ({"register_date": "2019-01-01"}, False, "not_resident"),
        ({"register_date": "2021-01-01"}, True, "eligible"),
        ({"residence_required": "false"}, True, "eligible"),
    ],
)
def test_eligibility_answers(
    maebashi: Municipality,
    clerk: User,
    resident: User,
    query: dict[str, str],
    allowed: bool,
    code: str,
) -> None:
    _verify(clerk, resident, maebashi, age=40)
    response = logged_in(resident).get(ELIGIBILITY, query)
    assert response.status_code == 200, response.content
    data = _json(response)
    assert (data["allowed"], data["code"]) == (allowed, code)
    assert data["message"]
    if allowed:
        assert data["age_bracket"] == "40-49" and data["method"] == "counter"
    else:
        assert data["age_bracket"] == "" and data["method"] == ""


def test_eligibility_elsewhere_and_unverified(
    maebashi: Municipality, kamakura: Municipality, resident: User
) -> None:
    client = logged_in(resident)
    assert _json(client.get(ELIGIBILITY))["code"] == "not_verified"
    _verify(staff(kamakura, Role.COUNTER_CLERK), resident, kamakura)
    assert _json(client.get(ELIGIBILITY))["code"] == "not_resident"
    assert _json(client.get("/api/v1/municipalities/kamakura/eligibility"))["allowed"] is True


@pytest.mark.parametrize(
    "query",
    [
        {"min_age": "eighteen"},
        {"min_age": "-1"},
        {"min_age": "500"},
        {"methods": "oidc,passport"},
        {"register_date": "2020-13-01"},
        {"register_date": "平成2年4月1日"},
        {"residence_required": "maybe"},
    ],
)
def test_bad_parameters_are_422_with_a_clear_error(
    maebashi: Municipality, resident: User, query: dict[str, str]
) -> None:
    response = logged_in(resident).get(ELIGIBILITY, query)
    assert response.status_code == 422
    data = _json(response)
    assert data["code"] == "invalid" and data["message"]
    assert data["errors"], data
    name = next(iter(query))
    assert any(name in map(str, error.get("loc", [])) for error in data["errors"])


def test_unknown_method_names_the_known_ones(maebashi: Municipality, resident: User) -> None:
    response = logged_in(resident).get(ELIGIBILITY, {"methods": "passport"})
    text = json.dumps(_json(response))
    assert "passport" in text and "oidc, register, counter" in text
