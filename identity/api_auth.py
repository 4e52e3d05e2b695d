"""How the JSON API knows who is calling: allauth's session token (`X-Session-Token`, apps) or
the session cookie (browsers, with Django's CSRF check).

The same rules on every endpoint, sync or async:
- a request that carries a token is judged by the token alone: an unknown or ended token is 401
  `not_signed_in`, never a fallback to a cookie;
- a request with neither a token nor a signed-in cookie is 401 `not_signed_in` (the CSRF check
  only applies to a signed-in browser: it guards a session, and an anonymous POST has none);
- a signed-in browser without a valid CSRF token is 403.

The micro-batched endpoints (signing, casting) use `AUTH_BATCHED`: neither the token nor the
cookie's session is looked up before the batch; each is handed to the service as a
`SessionToken` (a session key), and the batch resolves all of them in its one trip to the
database thread (identity.session_tokens.resolve_actors). So such a request touches no database
connection of its own while it waits for its batch: a request holding a pooled connection while
it waits on a batch that needs one could starve the pool (every connection held by waiters, the
batch waiting for one). The CSRF check reads only the CSRF cookie and the request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from identity.errors import PermissionDenied
from identity.session_tokens import SessionToken, user_for_session_token

TOKEN_HEADER = "X-Session-Token"  # noqa: S105  # (a header name)  # nosec B105


class _TokenAuth(AuthBase):
    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = TOKEN_HEADER

    def __init__(self) -> None:
        super().__init__()


class SessionTokenAuth(_TokenAuth):
    """allauth's headless session token, checked now."""

    def __call__(self, request: HttpRequest) -> Any:
        token = request.headers.get(TOKEN_HEADER)
        if token is None:
            return None  # not an app: the cookie decides
        user = user_for_session_token(token)
        if user is None:
            raise AuthenticationError
        request.user = user
        return user


class BatchedSessionTokenAuth(_TokenAuth):
    """The token, handed on unchecked (see the module docstring); no database work here."""

    async def __call__(self, request: HttpRequest) -> Any:
        token = request.headers.get(TOKEN_HEADER)
        if token is None:
            return None
        if not token:
            raise AuthenticationError
        return SessionToken(token)


class _CookieAuth(AuthBase):
    openapi_type = "apiKey"
    openapi_in = "cookie"

    def __init__(self) -> None:
        self.openapi_name = settings.SESSION_COOKIE_NAME
        super().__init__()

    @staticmethod
    def _csrf(request: HttpRequest) -> None:
        if check_csrf(request) is not None:
            raise PermissionDenied(
                _("This page has expired. Reload it and try again."), code="csrf_failed"
            )


class SessionCookieAuth(_CookieAuth):
    def __call__(self, request: HttpRequest) -> Any:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        if not request.user.is_authenticated:
            return None
        self._csrf(request)
        return request.user


class BatchedSessionCookieAuth(_CookieAuth):
    """The cookie's session key, handed on unchecked after the CSRF check."""

    async def __call__(self, request: HttpRequest) -> Any:
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not key:
            return None
        self._csrf(request)
        return SessionToken(key)


AUTH = [SessionTokenAuth(), SessionCookieAuth()]
AUTH_BATCHED = [BatchedSessionTokenAuth(), BatchedSessionCookieAuth()]
