"""Issue 13, point 4: every rate-limit answer says when to try again (Retry-After, in seconds),
as a page and as JSON. allauth's own 429s carry none; config/security_headers.py adds the longest
window of the limits behind the URL that answered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from config.settings import base
from tests.asgi import api_headers, asgi_call
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("production_rate_limits")]


def test_password_reset_page_429_says_retry_after() -> None:
    """allauth's `reset_password` limit (5 a minute per address for one e-mail): its 429 page,
    ours (config.errors.too_many_requests), with Retry-After."""
    user = UserFactory()
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    answers = [client.post("/accounts/password/reset/", {"email": user.email}) for _ in range(6)]
    assert [a.status_code for a in answers[:5]] == [302] * 5
    refused = answers[5]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "試行回数が多すぎます" in refused.content.decode()


def test_headless_429_json_says_retry_after() -> None:
    user = UserFactory()
    client = Client()
    answers = [
        client.post(
            "/_allauth/app/v1/auth/password/request",
            {"email": user.email},
            content_type="application/json",
        )
        for _ in range(6)
    ]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    refused = answers[5]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert refused.json()["status"] == 429


def test_signup_429_says_retry_after(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**base.ACCOUNT_RATE_LIMITS, "signup": "2/10m/ip"}
    client = Client()
    for n in range(2):
        client.post("/accounts/signup/", {"email": f"new{n}@example.jp"})
    refused = client.post("/accounts/signup/", {"email": "new9@example.jp"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"  # follows the configured window


@pytest.mark.django_db(transaction=True)
def test_retry_after_under_asgi() -> None:
    """The same through config/asgi.py, as uvicorn serves it (the middleware's async path)."""
    user = UserFactory()
    body = json.dumps({"email": user.email}).encode()
    url = "/_allauth/app/v1/auth/password/request"
    call = async_to_sync(asgi_call)
    replies = [call(url, body=body, headers=api_headers(None)) for _ in range(6)]
    assert [r.status for r in replies] == [200] * 5 + [429]
    assert replies[5].headers["retry-after"] == "60"
    assert replies[5].body["status"] == 429
