"""allauth headless session tokens: looked up with one read instead of two, and many at once.

allauth's default strategy asks the session store whether the key exists and then loads it (two
queries on every API request). Loading alone tells the same: a missing or expired session comes back
without a key. allauth ships that one-read lookup (`sessionkit.lookup_session`) but its default
strategy does not use it yet.

`users_for_session_tokens` answers what `authenticate_by_x_session_token` answers, for a batch of
requests (the lean signing path): one cache read and one user query for the batch instead of
several round trips per request. Only the common case is decided here (a live session whose user
exists, may log in and still has the password the session was made with); everything else (a
session to flush or re-key, another backend) goes through allauth's own lookup, so there is still
one rule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

if TYPE_CHECKING:
    from identity.models import User

logger = logging.getLogger(__name__)


class OneReadSessionTokenStrategy(SessionTokenStrategy):
    def lookup_session(self, session_token: str) -> SessionBase | None:
        return sessionkit.lookup_session(session_token)


class _Unsure:
    """Not the common case: ask allauth."""


_UNSURE = _Unsure()


def _load_sessions(tokens: Sequence[str]) -> dict[str, dict[str, Any]] | None:
    """Session data by token for the live sessions among `tokens` (absent: no such session),
    read as the configured engine reads it; None when the engine is not a database one."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DbStore):
        return None
    stores = {token: store_class(session_key=token) for token in set(tokens)}
    stores = {token: store for token, store in stores.items() if store.session_key}  # valid keys
    found: dict[str, dict[str, Any]] = {}
    cached_db = issubclass(store_class, CachedDbStore)
    cache = caches[settings.SESSION_CACHE_ALIAS]
    if cached_db and stores:
        by_cache_key = {store.cache_key: token for token, store in stores.items()}
        try:
            cached = cache.get_many(list(by_cache_key))
        except Exception:  # as cached_db: a cache failure falls back to the database
            logger.warning("session cache unavailable", exc_info=True)
            cached = {}
        found = {by_cache_key[key]: data for key, data in cached.items()}
    missing = [token for token in stores if token not in found]
    if missing:
        rows = store_class.get_model_class().objects.filter(
            session_key__in=missing, expire_date__gt=timezone.now()
        )
        to_cache: dict[str, dict[str, Any]] = {}
        timeout: int | None = None
        for row in rows:
            store = stores[row.session_key]
            found[row.session_key] = data = store.decode(row.session_data)
            if cached_db:
                to_cache[store.cache_key] = data
                age = store.get_expiry_age(expiry=row.expire_date)
                timeout = age if timeout is None else min(timeout, age)
        if to_cache:
            # Cached as cached_db caches a session it read from the database, in one round trip:
            # with the shortest remaining life of the batch, so none outlives its session.
            try:
                cache.set_many(to_cache, timeout)
            except Exception:
                logger.warning("session cache unavailable", exc_info=True)
    return found


def _named(data: dict[str, Any]) -> tuple[Any, ModelBackend] | _Unsure | None:
    """The account a session names and the backend that loads it; None if it names none,
    `_UNSURE` if the stock model backend would not be the one to load it."""
    try:
        user_id = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
        backend_path = data[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    except ValidationError:
        return _UNSURE
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend) or type(backend).get_user is not ModelBackend.get_user:
        return _UNSURE
    return user_id, backend


def users_for_session_tokens(tokens: Sequence[str]) -> list[User | None]:
    """The signed-in account of each token (None: no live session or nobody signed in), as
    allauth's `authenticate_by_x_session_token` gives it."""
    sessions = _load_sessions(tokens)
    if sessions is None:
        return [_by_allauth(token) for token in tokens]
    named = {token: _named(data) for token, data in sessions.items()}
    wanted = {found[0] for found in named.values() if isinstance(found, tuple)}
    users = {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=wanted)}
    return [_answer(token, sessions, named, users) for token in tokens]


def _answer(
    token: str,
    sessions: dict[str, dict[str, Any]],
    named: dict[str, tuple[Any, ModelBackend] | _Unsure | None],
    users: dict[Any, Any],
) -> User | None:
    found = named.get(token)
    if found is None:  # no live session, or one naming nobody
        return None
    if isinstance(found, _Unsure):
        return _by_allauth(token)
    user_id, backend = found
    user = users.get(user_id)
    if user is None or not backend.user_can_authenticate(user):
        return None
    if constant_time_compare(
        sessions[token].get(HASH_SESSION_KEY) or "", user.get_session_auth_hash()
    ):
        return user
    return _by_allauth(token)  # a stale or fallback-key hash: Django flushes or re-keys it


def _by_allauth(token: str) -> User | None:
    found = sessionkit.authenticate_by_x_session_token(token)
    return found[0] if found is not None else None
