"""Response headers that depend on who asked or what was refused (CSP and Permissions-Policy are
the same for every response: django-csp's and django-permissions-policy's middleware set them)."""

from __future__ import annotations

from allauth.account import app_settings as account_settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

from config.around import AroundMiddleware
from identity.signin import rate_window

# allauth's rate-limited actions behind each of its URL names (headed and headless), so that a 429
# it answered says how long to wait: at most the longest window of these.
_ALLAUTH_ACTIONS: dict[str, tuple[str, ...]] = {
    "account_login": ("login", "login_failed", "confirm_email"),
    "login": ("login", "login_failed", "confirm_email"),
    "account_signup": ("signup", "confirm_email"),
    "signup": ("signup", "confirm_email"),
    "account_reset_password": ("reset_password",),
    "request_password_reset": ("reset_password",),
    "account_reset_password_from_key": ("reset_password_from_key",),
    "reset_password": ("reset_password_from_key",),
    "account_change_password": ("change_password",),
    "account_set_password": ("change_password",),
    "change_password": ("change_password",),
    "account_email": ("manage_email", "confirm_email"),
    "manage_email": ("manage_email", "confirm_email"),
    "account_reauthenticate": ("reauthenticate",),
    "mfa_reauthenticate": ("reauthenticate", "login_failed"),
    "reauthenticate": ("reauthenticate",),
    "account_request_login_code": ("request_login_code",),
    "request_login_code": ("request_login_code",),
    "account_email_verification_sent": ("confirm_email",),
    "account_confirm_email": ("confirm_email",),
    "verify_email": ("confirm_email",),
    "mfa_authenticate": ("login_failed",),
    "authenticate": ("login_failed",),
}
DEFAULT_RETRY_AFTER = 60


def retry_after(request: HttpRequest) -> int:
    match = getattr(request, "resolver_match", None)
    actions = _ALLAUTH_ACTIONS.get(match.url_name or "", ()) if match else ()
    if not actions:  # a 429 from elsewhere that did not say: the longest window there is
        actions = tuple(account_settings.RATE_LIMITS)
    windows = [w for action in actions if (w := rate_window(action)) is not None]
    return max(windows, default=DEFAULT_RETRY_AFTER)


class RetryAfterMiddleware(AroundMiddleware):
    """Every 429 says when to try again. allauth's own answers (its decorated views, its headless
    JSON) carry no Retry-After; ours set an exact one, which is kept."""

    def after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        if response.status_code == 429 and "Retry-After" not in response:
            response["Retry-After"] = str(retry_after(request))


def _signed_in(request: HttpRequest) -> bool:
    """Whether the answer was made for an account: an API session token, or a session that holds
    a signed-in user and was read (a page that never read it cannot show whose it is). An
    accessed session is loaded already, so this does no I/O."""
    if "HTTP_X_SESSION_TOKEN" in request.META:
        return True
    session = getattr(request, "session", None)
    return session is not None and session.accessed and SESSION_KEY in session


class NoStoreWhenSignedInMiddleware(AroundMiddleware):
    """`Cache-Control: no-store` (Django's never-cache headers) on every answer made for a
    signed-in person: every page or download that can show personal data (a signatory CSV, the
    counter's person page, the audit log, My account) is behind sign-in, so no shared or browser
    cache keeps a copy. Public pages for anonymous visitors stay cacheable."""

    def after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        if _signed_in(request):
            add_never_cache_headers(response)
