"""allauth headless session tokens: which account a token names, through public APIs only.

A session token is the key of a Django session (allauth's `SessionTokenStrategy`). The account it
names is what Django's own `get_user` finds in that session: it checks the auth backend, that the
account may still log in, and the session hash (a changed password ends the session; a session
made under a rotated SECRET_KEY is re-keyed), exactly as for a browser's cookie.

`users_for_session_tokens` answers a whole batch of requests (the micro-batched signing and casting
endpoints resolve their tokens inside the batch's one trip to the database thread) with the same
answer per token as allauth's `XSessionTokenAuth` gives one request: the common case with two
queries for the batch, anything unusual through the one-token path. Re-deciding that much of
`get_user` here is the price of a per-batch lookup (one token alone costs four round trips and two
ORM queries, ≈ 1.5 ms of CPU: docs/benchmarks.md); tests/identity/test_session_tokens.py holds it
to allauth's answer for every kind of token on both database session engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from allauth.headless import app_settings
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from identity.models import User


class OneReadSessionTokenStrategy(SessionTokenStrategy):
    """allauth's strategy asks the session store whether the key exists and then loads it (two
    reads on every API request). Loading alone tells the same: Django's stores forget the key of a
    session that is missing or expired when they load it."""

    def lookup_session(self, session_token: str) -> SessionBase | None:
        session: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(
            session_key=session_token
        )
        session.get(SESSION_KEY)  # loads the session
        return session if session.session_key else None


def user_for_session_token(token: str) -> User | None:
    """The signed-in account of a session token, or None (no live session, nobody signed in, an
    account that may no longer log in, or a session that a password change ended)."""
    if not token:
        return None
    session = app_settings.TOKEN_STRATEGY.lookup_session(token)
    if session is None:
        return None
    request = HttpRequest()
    request.session = session
    user = get_user(request)
    return user if user.is_authenticated else None


def users_for_session_tokens(tokens: Sequence[str]) -> list[User | None]:
    """`user_for_session_token` for each token of a batch, with two queries for the whole batch
    in the common case (see `_common_case`); a token sent twice is read once."""
    found = _common_case(set(tokens))
    for token in set(tokens) - found.keys():
        found[token] = user_for_session_token(token)
    return [found[token] for token in tokens]


def _common_case(tokens: set[str]) -> dict[str, User | None]:
    """The tokens this can answer as Django's `get_user` would, read together: sessions stored in
    the database (the `db` and `cached_db` engines; the database holds every live session, the
    cache only copies) naming an account through the stock model backend, with the account's
    current session hash. One query for the sessions, one for their accounts. Anything else (a
    session to flush or re-key, another backend, another engine) is left out for the one-token
    path, which asks Django itself."""
    engine = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(engine, DbSessionStore) or not tokens:
        return {}
    answers: dict[str, User | None] = {}
    rows = engine.get_model_class().objects.filter(session_key__in=tokens)
    live = {row.session_key: row.get_decoded() for row in rows if row.expire_date > timezone.now()}
    for token in tokens - live.keys():
        answers[token] = None  # no live session
    named: dict[str, Any] = {}
    for token, data in live.items():
        backend_path = data.get(BACKEND_SESSION_KEY)
        if SESSION_KEY not in data:
            answers[token] = None  # nobody signed in
        elif backend_path in settings.AUTHENTICATION_BACKENDS and _stock(backend_path):
            named[token] = data[SESSION_KEY]
    model = get_user_model()
    ids = {model._meta.pk.to_python(user_id) for user_id in named.values()}
    accounts = {account.pk: account for account in model._default_manager.filter(pk__in=ids)}
    for token, user_id in named.items():
        account = accounts.get(model._meta.pk.to_python(user_id))
        backend = load_backend(live[token][BACKEND_SESSION_KEY])
        assert isinstance(backend, ModelBackend)  # _stock
        if account is None or not backend.user_can_authenticate(account):
            answers[token] = None
        elif constant_time_compare(
            live[token].get(HASH_SESSION_KEY, ""), account.get_session_auth_hash()
        ):
            answers[token] = account
    return answers


def _stock(backend_path: str) -> bool:
    backend = load_backend(backend_path)
    return isinstance(backend, ModelBackend) and type(backend).get_user is ModelBackend.get_user


@dataclass(frozen=True)
class SessionToken:
    """A request's session key (its `X-Session-Token`, or a browser's session cookie), not yet
    checked: the micro-batched endpoints check the keys of a whole batch in its one trip to the
    database thread (`resolve_actors`). A token and a cookie name the same kind of session, and
    Django's `get_user` judges both alike."""

    token: str

    def __bool__(self) -> bool:
        return bool(self.token)


def resolve_actors(actors: Sequence[User | SessionToken]) -> list[User | None]:
    """Each actor as an account: an account stays itself, a token becomes the account it names
    (or None)."""
    tokens = [actor.token for actor in actors if isinstance(actor, SessionToken)]
    users = iter(users_for_session_tokens(tokens))
    return [next(users) if isinstance(actor, SessionToken) else actor for actor in actors]
