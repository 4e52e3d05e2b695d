"""Session tokens resolved for a batch (identity/session_tokens.py) give what allauth's public
`XSessionTokenAuth` gives one request, for every kind of token, reading each session once."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from allauth.headless.contrib.ninja.security import XSessionTokenAuth
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from identity.models import User
from identity.session_tokens import users_for_session_tokens
from tests.factories import UserFactory, session_token

pytestmark = pytest.mark.django_db

ENGINES = ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"]


def _reference(token: str) -> User | None:
    """allauth's own answer for one API request carrying the token."""
    request = RequestFactory().get("/api/v1/me", headers={"X-Session-Token": token})
    found = XSessionTokenAuth()(request)
    return found if isinstance(found, User) else None


@pytest.fixture(params=ENGINES, ids=["db", "cached_db"])
def engine(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.SESSION_ENGINE = request.param
    caches[settings.SESSION_CACHE_ALIAS].clear()
    return str(request.param)


def _kinds() -> dict[str, tuple[str, User | None]]:
    """Tokens of every kind, with the account each should give."""
    alice: User = UserFactory()
    bob: User = UserFactory()
    inactive = UserFactory(is_active=False)
    gone = UserFactory()
    gone_token = session_token(gone)
    gone.delete()
    expired = UserFactory()
    expired_token = session_token(expired)
    Session.objects.filter(session_key=expired_token).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    anonymous = import_module(settings.SESSION_ENGINE).SessionStore()
    anonymous["something"] = "else"
    anonymous.create()
    other_backend = import_module(settings.SESSION_ENGINE).SessionStore()
    other_backend.update(
        {"_auth_user_id": str(bob.pk), "_auth_user_backend": "not.a.configured.Backend"}
    )
    other_backend.create()
    carol: User = UserFactory()
    allauth_login = import_module(settings.SESSION_ENGINE).SessionStore()  # as allauth's login
    allauth_login.update(
        {
            "_auth_user_id": str(carol.pk),
            "_auth_user_backend": "allauth.account.auth_backends.AuthenticationBackend",
            "_auth_user_hash": carol.get_session_auth_hash(),
        }
    )
    allauth_login.create()
    caches[settings.SESSION_CACHE_ALIAS].clear()  # read from the database (expiry is there)
    return {
        "alice": (session_token(alice), alice),
        "bob": (session_token(bob), bob),
        "allauth backend": (str(allauth_login.session_key), carol),
        "inactive": (session_token(inactive), None),
        "deleted account": (gone_token, None),
        "expired": (expired_token, None),
        "anonymous": (str(anonymous.session_key), None),
        "other backend": (str(other_backend.session_key), None),
        "unknown": ("x" * 32, None),
        "malformed": ("short", None),
        "empty": ("", None),
    }


def test_every_kind_of_token_gets_what_allauth_gives(engine: str) -> None:
    kinds = _kinds()
    tokens = [token for token, _ in kinds.values()]
    batch = users_for_session_tokens(tokens)
    for (name, (token, expected)), got in zip(kinds.items(), batch, strict=True):
        assert got == expected, name
        assert _reference(token) == expected, name


def test_the_same_token_twice(engine: str) -> None:
    alice = UserFactory()
    token = session_token(alice)
    caches[settings.SESSION_CACHE_ALIAS].clear()  # e.g. after a Redis restart
    assert users_for_session_tokens([token, token]) == [alice, alice]


def test_a_changed_password_ends_the_session_as_django_does(engine: str) -> None:
    alice = UserFactory()
    token = session_token(alice)
    alice.set_password("a new long passphrase 2026")
    alice.save()
    assert users_for_session_tokens([token]) == [None]
    assert not Session.objects.filter(session_key=token).exists()  # flushed


def test_a_session_from_a_rotated_secret_key_still_signs_in(engine: str, settings: Any) -> None:
    settings.SECRET_KEY = "the-old-secret-key-" + "x" * 40
    alice = UserFactory()
    token = session_token(alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-" + "y" * 40
    assert users_for_session_tokens([token]) == [alice]


@pytest.mark.parametrize("size", [1, 12])
def test_a_batch_costs_two_queries_whatever_its_size(engine: str, size: int) -> None:
    """The sessions from the database (which holds every live one; the cache only copies), then
    their accounts."""
    users = [UserFactory() for _ in range(size)]
    tokens = [session_token(user) for user in users]
    with CaptureQueriesContext(connection) as queries:
        assert users_for_session_tokens(tokens) == users
    tables = [q["sql"].split('FROM "')[1].split('"')[0] for q in queries.captured_queries]
    assert tables == ["django_session", "identity_user"]


def test_other_session_engines_go_through_allauth(settings: Any) -> None:
    """A session engine that is not database-backed (here: the cache alone) gives the same
    answers."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    alice: User = UserFactory()
    bob: User = UserFactory()
    tokens = [session_token(alice), session_token(bob), "x" * 32]
    bob.set_password("another long passphrase 2026")
    bob.save()
    assert not Session.objects.exists()  # nothing in the database: the cache holds them
    assert users_for_session_tokens(tokens) == [alice, None, None]
    assert [_reference(token) for token in tokens] == [alice, None, None]
