"""Signing in: failed attempts lock out an address, never an account.

allauth's stock rule (5 failures per account in 5 minutes, from anywhere) let anyone lock every
staff member out by typing wrong passwords, or wrong codes at the two-step stage, for their
e-mail. Here failures count three ways, each an entry of ACCOUNT_RATE_LIMITS read through
allauth's public `allauth.core.ratelimit`:

- per address, any account: allauth's own `login_failed` (it also rolls a success back);
- per account *at one address* (`login_failed_address`, `…_hourly`): the lockout a stranger
  causes holds only for the stranger's address; the owner, elsewhere, signs in;
- per account from everywhere (`login_failed_account`): a ceiling far above what an owner ever
  reaches, that bounds a brute force spread over many addresses (docs/decisions.md).

Ours count failures only: before an attempt a dry run asks whether one more is allowed, after a
failure it is counted. A locked-out attempt answers 429 with Retry-After (at most that long: the
window of the limit that is full), as the HTML page or allauth's headless JSON.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.core import context, ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.headless.mfa.inputs import AuthenticateInput as HeadlessAuthenticateInput
from allauth.headless.mfa.views import AuthenticateView as HeadlessAuthenticateView
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

ADDRESS_LIMITS = ("login_failed_address", "login_failed_address_hourly")
ACCOUNT_LIMIT = "login_failed_account"
ALLAUTH_ADDRESS_LIMIT = "login_failed"
TOO_MANY = "too_many_login_attempts"  # allauth's error code for its own `login_failed`

_DURATION = re.compile(r"^(\d*(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_window(action: str) -> int | None:
    """The longest window (seconds) among the configured rates of an allauth action (`10/m/ip`,
    `5/5m/key`: allauth's documented format), or None when it has none."""
    windows = []
    for rate in (account_settings.RATE_LIMITS.get(action) or "").split(","):
        parts = rate.strip().split("/")
        if len(parts) < 2 or not (match := _DURATION.match(parts[1])):
            continue
        windows.append(round(float(match[1] or 1) * _UNIT[match[2]]))
    return max(windows, default=None)


def too_many_attempts(request: HttpRequest, seconds: int) -> HttpResponse:
    """allauth's 429 (its headless JSON, or our handler429 page), saying when to try again."""
    response = ratelimit.respond_429(request)
    response["Retry-After"] = str(max(1, seconds))
    return response


def _address(request: HttpRequest) -> str:
    """The client address as allauth counts it: an IPv6 client by its network (its /64 by
    default), which it can otherwise walk through for a fresh count per address."""
    raw = get_adapter().get_client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False).network_address)
    return str(address)


def _limits(request: HttpRequest, account: str) -> list[tuple[str, str]]:
    here = f"{account}@{_address(request)}"
    return [*((action, here) for action in ADDRESS_LIMITS), (ACCOUNT_LIMIT, account)]


def lockout_check(request: HttpRequest, account: str) -> None:
    """Refuse (429) an attempt on `account` from this address when one of its limits is full."""
    for action, key in _limits(request, account):
        if not ratelimit.consume(request, action=action, key=key, dry_run=True):
            raise ImmediateHttpResponse(too_many_attempts(request, rate_window(action) or 60))


def lockout_count_failure(request: HttpRequest, account: str) -> None:
    for action, key in _limits(request, account):
        ratelimit.consume(request, action=action, key=key)


def _password_account(credentials: dict[str, Any]) -> str:
    login = credentials.get("email") or credentials.get("username") or ""
    return f"password:{str(login).strip().lower()}"


class LockoutAccountAdapter(DefaultAccountAdapter):
    """Password sign-in failures counted per account and address (see the module's docstring)."""

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != TOO_MANY:
                raise
            seconds = rate_window(ALLAUTH_ADDRESS_LIMIT) or 60
            raise ImmediateHttpResponse(too_many_attempts(request, seconds)) from error
        lockout_check(request, _password_account(credentials))

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        lockout_count_failure(request, _password_account(credentials))


class CodeLockout:
    """Mixed into allauth's two-step form: the same three counts for wrong codes (TOTP or
    recovery code) as for wrong passwords, per account by its id."""

    user: Any

    def clean_code(self) -> str:
        request = context.request
        account = f"mfa:{self.user.pk}"
        lockout_check(request, account)
        try:
            code: str = super().clean_code()  # type: ignore[misc]  # allauth's form
        except ValidationError as error:
            if error.code == TOO_MANY:  # allauth's per-address count is full
                seconds = rate_window(ALLAUTH_ADDRESS_LIMIT) or 60
                raise ImmediateHttpResponse(too_many_attempts(request, seconds)) from error
            lockout_count_failure(request, account)
            raise
        return code


class AuthenticateForm(CodeLockout, AllauthAuthenticateForm):
    """The two-step stage's form (MFA_FORMS["authenticate"])."""


class HeadlessAuthenticateLockedInput(CodeLockout, HeadlessAuthenticateInput):
    pass


class HeadlessAuthenticate(HeadlessAuthenticateView):
    """The headless two-step stage (`/_allauth/app/v1/auth/2fa/authenticate`), whose input allauth
    does not take from MFA_FORMS: routed to in config/urls.py ahead of allauth's own."""

    input_class = HeadlessAuthenticateLockedInput
