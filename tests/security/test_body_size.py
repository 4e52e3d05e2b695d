"""Issue 13, point 4: a body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413, never 500 or an HTML
400 to an API client, under WSGI (the test client) and ASGI (config/asgi.py, as uvicorn runs it),
and nothing is written."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from proposals.models import Proposal
from tests.asgi import api_headers, asgi_call
from tests.factories import MunicipalityFactory, ProposalTypeFactory, UserFactory, session_token

pytestmark = pytest.mark.django_db(transaction=True)

OVER = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024  # ~3 MB, the finding's body
FILE_URL = "/api/v1/municipalities/maebashi/proposals"
asgi = async_to_sync(asgi_call)  # the application on its own loop; the test's ORM stays here


def _big_proposal() -> bytes:
    body = {"type_id": 1, "title": "大きすぎる提案", "summary": "x", "body": "あ" * (OVER // 3)}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return raw


@pytest.fixture
def token() -> str:
    MunicipalityFactory(slug="maebashi")
    ProposalTypeFactory(municipality__slug="maebashi")
    return session_token(UserFactory())


def test_api_body_too_large_is_413_json_wsgi(token: str) -> None:
    response = Client(raise_request_exception=False).post(
        FILE_URL, _big_proposal(), content_type="application/json", HTTP_X_SESSION_TOKEN=token
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "body_too_large"
    assert response.json()["message"]
    assert not Proposal.objects.exists()


def test_api_body_too_large_is_413_json_asgi(token: str) -> None:
    reply = asgi(FILE_URL, body=_big_proposal(), headers=api_headers(token))
    assert reply.status == 413
    assert reply.body == {"code": "body_too_large", "message": "The request is too large."}
    assert not Proposal.objects.exists()


def test_api_error_in_japanese_by_default(token: str) -> None:
    reply = asgi(FILE_URL, body=_big_proposal(), headers=api_headers(token, "ja"))
    assert reply.status == 413
    assert reply.body["message"] == "リクエストが大きすぎます。"


def test_page_form_too_large_is_a_readable_413_page() -> None:
    MunicipalityFactory(slug="maebashi")
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/m/maebashi/accounts/login/", {"login": "a" * OVER, "password": "x"})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "<h1>The request is too large</h1>" in body
    assert 'lang="en"' in body  # the site's own layout, not Django's bare page


def test_page_form_too_large_is_413_asgi() -> None:
    MunicipalityFactory(slug="maebashi")
    # A browser's form: its CSRF cookie sent, its token inside the body Django must not read.
    form = b"csrfmiddlewaretoken=" + b"a" * 32 + b"&login=" + b"a" * OVER + b"&password=x"
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"cookie", b"csrftoken=" + b"a" * 32),
    ]
    reply = asgi("/m/maebashi/accounts/login/", body=form, headers=headers)
    assert reply.status == 413
    assert "リクエストが大きすぎます" in reply.body.decode()


def test_headless_api_too_large_is_413_in_allauths_shape() -> None:
    body = json.dumps({"email": "a@example.jp", "password": "x" * OVER}).encode()
    reply = asgi("/_allauth/app/v1/auth/login", body=body, headers=api_headers(None))
    assert reply.status == 413
    assert reply.body["status"] == 413
    assert reply.body["errors"][0]["code"] == "body_too_large"


def test_a_body_under_the_limit_still_works(token: str) -> None:
    """The limit did not move: a body just under it is read and judged on its content."""
    raw = json.dumps({"title": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 100)}).encode()
    response = Client().post(
        FILE_URL, raw, content_type="application/json", HTTP_X_SESSION_TOKEN=token
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
