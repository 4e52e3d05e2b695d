"""allauth headless session tokens: which account a token names, through public APIs only.

A session token is the key of a Django session (allauth's `SessionTokenStrategy`). The account it
names is what Django's own `get_user` finds in that session: it checks the auth backend, that the
account may still log in, and the session hash (a changed password ends the session; a session
made under a rotated SECRET_KEY is re-keyed), exactly as for a browser's cookie.

`users_for_session_tokens` answers a whole batch of requests (the micro-batched signing and casting
endpoints resolve their tokens inside the batch's one trip to the database thread) with the same
answer per token as allauth's `XSessionTokenAuth` gives one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from allauth.headless import app_settings
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

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
    """`user_for_session_token` for each token of a batch (a token sent twice is read once)."""
    found: dict[str, User | None] = {}
    for token in tokens:
        if token not in found:
            found[token] = user_for_session_token(token)
    return [found[token] for token in tokens]


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
