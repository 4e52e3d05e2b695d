"""Residents verify through their municipality's OpenID Connect identity provider.

allauth runs the protocol (redirect with state and PKCE → code → token → userinfo, ID token
checked against the provider's discovery document). This adapter is where its result becomes a
verification: `pre_social_login` runs after allauth has the claims and before it saves anything,
so a refusal (claims missing, subject connected to another account, person verified elsewhere)
records nothing. The verification commits first; allauth then connects the social account, whose
(provider, uid) uniqueness can no longer be the loser of a race that the verification's own
constraints already decided.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Mapping
from typing import Any

import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import services
from identity.dates import parse_date
from identity.errors import Conflict, DomainError, InvalidInput
from identity.keys import PersonFacts
from identity.models import IdentityProvider, User, Verification
from identity.models.oidc import PROVIDER

logger = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/openid-configuration"
# allauth fetches the discovery document when the flow starts and again on the callback. Keeping it
# saves that round trip, and a provider that goes down while the resident is signing in there
# then fails at the token endpoint, inside allauth's error handling (a clear page, not a 500).
DISCOVERY_CACHE_SECONDS = 3600


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _address(value: Any) -> str:
    """The OIDC address claim: an object (`formatted`, else its parts), or plainly a string."""
    if isinstance(value, Mapping):
        formatted = _text(value.get("formatted"))
        if formatted:
            return formatted
        # Japanese order: prefecture, municipality, the rest.
        return "".join(_text(value.get(part)) for part in ("region", "locality", "street_address"))
    return _text(value)


def person_from_claims(claims: Mapping[str, Any]) -> PersonFacts:
    """Name, birthdate (YYYY-MM-DD per OIDC, or anything identity.dates reads) and address."""
    name = _text(claims.get("name")) or " ".join(
        part for part in (_text(claims.get("family_name")), _text(claims.get("given_name"))) if part
    )
    birthdate = _text(claims.get("birthdate"))
    address = _address(claims.get("address"))
    if not (name and birthdate and address):
        raise InvalidInput(
            _(
                "The identity provider did not share your name, date of birth and address, which "
                "verification needs. Please start again and allow sharing them, or verify at the "
                "city office."
            ),
            code="oidc_missing_claims",
        )
    try:
        birth_date = parse_date(birthdate)
    except ValueError:
        raise InvalidInput(
            _("The identity provider sent a date of birth that cannot be read."),
            code="oidc_bad_birthdate",
        ) from None
    return PersonFacts(name=name, birth_date=birth_date, address=address)


def _id_token(sociallogin: SocialLogin) -> Mapping[str, Any]:
    token = sociallogin.account.extra_data.get("id_token")
    return token if isinstance(token, Mapping) else {}


def _claims(sociallogin: SocialLogin) -> tuple[str, str, dict[str, Any]]:
    """Issuer, subject and the claims (userinfo over the ID token), consistent with each other."""
    id_token = _id_token(sociallogin)
    userinfo = sociallogin.account.extra_data.get("userinfo") or {}
    issuer, subject = _text(id_token.get("iss")), _text(id_token.get("sub"))
    if not issuer or not subject or (userinfo and userinfo.get("sub") != subject):
        # OIDC Core 5.3.2: userinfo's `sub` must be the ID token's, or the response is not used.
        raise InvalidInput(
            _("The identity provider's answer was inconsistent. Please start again."),
            code="oidc_inconsistent",
        )
    return issuer, subject, {**id_token, **userinfo}


def _forget_personal_data(sociallogin: SocialLogin) -> None:
    """Names, birthdates and addresses live only in verifications: the social account keeps the
    issuer and subject. allauth has already written the full claims to an existing account."""
    id_token = _id_token(sociallogin)
    account = sociallogin.account
    account.extra_data = {
        "id_token": {key: id_token[key] for key in ("iss", "sub") if key in id_token}
    }
    if account.pk is not None:
        account.save(update_fields=["extra_data"])


def identity_provider_of(sociallogin: SocialLogin) -> IdentityProvider | None:
    return (
        IdentityProvider.objects.select_related("municipality")
        .filter(app__provider=PROVIDER, app__provider_id=sociallogin.account.provider)
        .first()
    )


def verify_from_login(
    request: HttpRequest, sociallogin: SocialLogin, provider: IdentityProvider
) -> Verification:
    """Turn a completed OIDC connect into a verification of the signed-in resident, or refuse."""
    if sociallogin.state.get("process") != AuthProcess.CONNECT:
        raise InvalidInput(
            _("Sign in to Mebuku first, then verify your residence from your account."),
            code="oidc_not_connect",
        )
    user = request.user
    if not isinstance(user, User):
        raise InvalidInput(_("Please sign in first."), code="not_signed_in")
    if getattr(request, "municipality", None) != provider.municipality:
        raise InvalidInput(
            _("This identity provider belongs to another municipality."),
            code="oidc_wrong_municipality",
        )
    if sociallogin.is_existing and sociallogin.user != user:
        raise Conflict(
            _(
                "This identity is already linked to another Mebuku account. Sign in with that "
                "account, or come to the counter of the city office if it is not yours."
            ),
            code="oidc_subject_in_use",
        )
    issuer, subject, claims = _claims(sociallogin)
    return services.verification_by_oidc(
        user=user,
        municipality=provider.municipality,
        issuer=issuer,
        subject=subject,
        person=person_from_claims(claims),
    )


class _DiscoveryCachingSession(requests.Session):
    """allauth's HTTP session, with its timeout, keeping discovery documents for a while."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        text_url = url.decode() if isinstance(url, bytes) else url
        if method.upper() != "GET" or not text_url.endswith(WELL_KNOWN):
            return super().request(method, url, *args, **kwargs)
        key = "identity:oidc-discovery:" + hashlib.sha256(text_url.encode()).hexdigest()
        body = cache.get(key)
        if body is not None:
            response = requests.Response()
            response.status_code, response.url, response.encoding = 200, text_url, "utf-8"
            response.raw = io.BytesIO(body)  # what `.content` reads
            response.headers["Content-Type"] = "application/json"
            return response
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 200:
            cache.set(key, response.content, DISCOVERY_CACHE_SECONDS)
        return response


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = identity_provider_of(sociallogin)
        if provider is None:
            return
        try:
            verification = verify_from_login(request, sociallogin, provider)
        except DomainError as error:
            _forget_personal_data(sociallogin)
            logger.info("OIDC verification refused: %s", error.code)
            messages.error(request, str(error.message))
            back = reverse("identity:oidc_verify")
            if not request.user.is_authenticated:
                raise ImmediateHttpResponse(redirect_to_login(back)) from None
            raise ImmediateHttpResponse(HttpResponseRedirect(back)) from None
        _forget_personal_data(sociallogin)
        messages.success(
            request,
            _(
                "You are now a verified resident of %(municipality)s. "
                "The verification is valid until %(date)s."
            )
            % {
                "municipality": provider.municipality.display_name,
                "date": timezone.localdate(verification.expires_at).isoformat(),
            },
        )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Accounts are made with an e-mail address; identity providers only verify them.
        if identity_provider_of(sociallogin) is not None:
            return False
        return bool(super().is_open_for_signup(request, sociallogin))

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """Tell the error page (socialaccount/authentication_error.html) what went wrong."""
        if extra_context is not None:
            extra_context["failure"] = failure_kind(exception, extra_context)
        logger.warning(
            "OIDC flow failed (%s): %r", getattr(provider, "id", provider), exception or error
        )
        super().on_authentication_error(request, provider, error, exception, extra_context)

    def get_requests_session(self) -> requests.Session:
        return _DiscoveryCachingSession(timeout=socialaccount_settings.REQUESTS_TIMEOUT)


def failure_kind(exception: BaseException | None, context: Mapping[str, Any]) -> str:
    """unreachable | rejected | state | unknown: which message the error page shows."""
    if isinstance(exception, requests.RequestException):
        return "unreachable"
    if isinstance(exception, OAuth2Error):
        return "rejected"
    if exception is None and "state_id" in context and "state" not in context:
        return "state"
    return "unknown"
