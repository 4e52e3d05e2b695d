"""allauth headless session tokens, looked up with one read instead of two.

allauth's default strategy asks the session store whether the key exists and then loads it (two
queries on every API request). Loading alone tells the same: a missing or expired session comes back
without a key. allauth ships that one-read lookup (`sessionkit.lookup_session`) but its default
strategy does not use it yet.
"""

from __future__ import annotations

from allauth.headless.internal import sessionkit
from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.contrib.sessions.backends.base import SessionBase


class OneReadSessionTokenStrategy(SessionTokenStrategy):
    def lookup_session(self, session_token: str) -> SessionBase | None:
        return sessionkit.lookup_session(session_token)
