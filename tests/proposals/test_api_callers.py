"""The API answers alike whoever calls: who is signed in is decided by the same rules on every
endpoint (identity/api_auth.py), sync or micro-batched, and every answer is JSON with a code, in
the caller's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.models import Municipality
from proposals.models import Signature
from tests.factories import PASSWORD, ProposalFactory, ProposalTypeFactory, session_token, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal_url(town: Municipality) -> str:
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    return f"/api/v1/municipalities/{town.slug}/proposals/{proposal.pk}/signature"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/municipalities/maebashi/proposals",  # sync endpoint
        "/api/v1/municipalities/maebashi/proposals/1/signature",  # micro-batched endpoint
        "/api/v1/municipalities/maebashi/elections/1/ballots",  # micro-batched endpoint
    ],
)
def test_anonymous_writes_are_401_not_signed_in_in_the_callers_language(
    town: Municipality, path: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path, data="{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 401
    assert response.json() == {"code": "not_signed_in", "message": "Please sign in first."}
    japanese = client.post(
        path, data="{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert japanese.status_code == 401
    assert japanese.json()["message"] != "Please sign in first."
    assert japanese["Content-Language"] == "ja"


def test_a_token_decides_alone_even_beside_a_signed_in_cookie(
    town: Municipality, proposal_url: str
) -> None:
    resident = verified(town)
    browser = Client()
    browser.login(email=resident.email, password=PASSWORD)
    for path in (proposal_url, "/api/v1/me"):
        method = browser.post if path == proposal_url else browser.get
        response = method(path, HTTP_X_SESSION_TOKEN="no-such-token")
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_signed_in"
    assert not Signature.objects.exists()
    ok = browser.post(proposal_url, HTTP_X_SESSION_TOKEN=session_token(resident))
    assert ok.status_code == 201


def test_a_signed_in_browser_needs_the_csrf_token(town: Municipality, proposal_url: str) -> None:
    resident = verified(town)
    browser = Client(enforce_csrf_checks=True)
    browser.login(email=resident.email, password=PASSWORD)
    refused = browser.post(proposal_url, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert not Signature.objects.exists()
    browser.get("/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    signed = browser.post(proposal_url, HTTP_X_CSRFTOKEN=token)
    assert signed.status_code == 201, signed.content
    assert Signature.objects.get().user == resident


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/municipalities/x/y/z/w"])
def test_an_unknown_api_path_is_a_json_404(path: str) -> None:
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Not found."}
    japanese = Client().post(path, HTTP_ACCEPT_LANGUAGE="ja")
    assert japanese.status_code == 404 and japanese.json()["code"] == "not_found"
    assert japanese.json()["message"] != "Not found."


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/v1/me", "GET"),  # sync endpoint
        ("get", "/api/v1/municipalities/maebashi/proposals/1/signature", "DELETE, POST"),  # async
    ],
)
def test_a_wrong_method_on_an_api_path_is_a_json_405(
    town: Municipality, method: str, path: str, allowed: str
) -> None:
    response = getattr(Client(), method)(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "code": "method_not_allowed",
        "message": "This method is not allowed here.",
    }
    assert sorted(response["Allow"].split(", ")) == allowed.split(", ")


def _file(body: str, **extra: str) -> Any:
    resident = verified(Municipality.objects.get(slug="maebashi"))
    return Client().post(
        "/api/v1/municipalities/maebashi/proposals",
        data=body,
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=session_token(resident),
        HTTP_ACCEPT_LANGUAGE="en",
        **extra,
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [("a\\u0000b", "string_nul"), ("a\\ud800b", "string_unicode")],
)
def test_text_no_column_can_store_is_422_not_a_database_error(
    town: Municipality, text: str, error: str
) -> None:
    """NUL (PostgreSQL refuses it) and a lone surrogate (no UTF-8 form) are valid JSON escapes."""
    kind = ProposalTypeFactory(municipality=town)
    response = _file(f'{{"type_id": {kind.pk}, "title": "{text}", "summary": "s", "body": "b"}}')
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == [
        {"type": error, "loc": ["body", "title"], "msg": response.json()["errors"][0]["msg"]}
    ]
    query = Client().get("/api/v1/municipalities/maebashi/proposals", {"q": "a\x00b"})
    assert query.status_code == 422
    assert query.json()["errors"][0]["loc"] == ["query", "q"]


@pytest.mark.parametrize("body", ["{not json", '{"type_id": NaN}', '{"type_id": Infinity}'])
def test_a_body_that_is_not_json_is_400_bad_request(town: Municipality, body: str) -> None:
    response = _file(body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "message": "The request body is not valid JSON.",
    }
