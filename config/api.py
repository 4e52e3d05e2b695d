"""The JSON API under /api/v1/: one NinjaAPI, routers contributed by the apps.

Errors always have the shape {"code": stable string, "message": for people, ...}.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from debates.api import router as debates_router
from identity.api import router as identity_router
from identity.errors import DomainError
from proposals.api import router as proposals_router
from voting.api import router as voting_router

api = NinjaAPI(
    title="Mebuku API",
    version="1",
    description=(
        "Public record and participation API of Mebuku. Browsers use their session (with the CSRF "
        "token); other clients sign in through allauth's headless app API "
        "(`/_allauth/app/v1/`) and "
        "send the session token in the `X-Session-Token` header. Errors are JSON objects with a "
        "stable `code` and a human `message`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", identity_router)
api.add_router("", proposals_router)
api.add_router("", debates_router)
api.add_router("", voting_router)


def _error(
    request: HttpRequest, status: int, code: str, message: str, **extra: object
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, str(exc.message))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "invalid", _("The request is not valid."), errors=exc.errors)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_signed_in", _("Please sign in first."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 403: "forbidden", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    return _error(request, exc.status_code, code, str(exc))


def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """A path under /api/v1/ that names no endpoint: the API's JSON 404, not Django's page."""
    return _error(request, 404, "not_found", _("Not found."))
