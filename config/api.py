"""The JSON API under /api/v1/: one NinjaAPI, routers contributed by the apps.

Errors always have the shape {"code": stable string, "message": for people, ...}.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from debates.api import router as debates_router
from identity import idempotency
from identity.api import router as identity_router
from identity.errors import DomainError
from identity.models import User
from proposals.api import router as proposals_router
from voting.api import router as voting_router


def _text_errors(value: object, loc: tuple[str | int, ...]) -> list[dict[str, Any]]:
    """Each string (value or key) that no text column can store: NUL, which PostgreSQL refuses,
    or a lone surrogate (`"\\ud800"` is valid JSON), which has no UTF-8 form."""
    found: list[dict[str, Any]] = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append({"type": "string_nul", "loc": list(loc), "msg": "NUL is not allowed"})
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                found.append(
                    {"type": "string_unicode", "loc": list(loc), "msg": "Not valid Unicode text"}
                )
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _text_errors(key, (*loc, "<key>")) + _text_errors(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _text_errors(item, (*loc, index))
    return found


def _not_json(name: str) -> None:
    """`NaN` and `Infinity` are Python's extensions, not JSON (nor storable in a JSON column)."""
    raise ValueError(f"{name} is not JSON")


class TextParser(Parser):
    """ninja's JSON parser, refusing text that no column can store (422 `invalid`), so that it
    never reaches PostgreSQL as a 500."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body, parse_constant=_not_json)
        if found := _text_errors(data, ("body",)):
            raise ValidationError(found)  # ninja wraps it in its 400; _http_error unwraps it
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if found := _text_errors(parsed, ("query",)):
            raise ValidationError(found)
        return parsed


_IDEMPOTENCY_DOC = (
    "Optional. A random key (a UUID) naming this write: sent again with the same key and the "
    "same request, it is not done twice; the first answer comes back with "
    "`Idempotent-Replayed: true`. The same key with another request: 422 "
    "`idempotency_key_mismatch`; while the first is still running: 409 "
    "`idempotency_in_progress` with `Retry-After`. Answers are kept 24 hours, per account."
)


class MebukuAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """ninja's schema, with the `Idempotency-Key` header on every write (taken by
        `_idempotent`, which wraps every operation) and the answers it can give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = {"$ref": "#/components/schemas/ErrorOut"}
        invalid = {"$ref": "#/components/schemas/InvalidOut"}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                if method.upper() not in idempotency.METHODS:
                    continue
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": idempotency.HEADER,
                        "required": False,
                        "description": _IDEMPOTENCY_DOC,
                        "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
                    }
                )
                responses = operation.setdefault("responses", {})
                present = {int(status) for status in responses}  # ninja's keys are integers
                for status, body in ((400, error), (409, error), (422, invalid)):
                    if status not in present:
                        responses[status] = {
                            "description": "Idempotency-Key refused",
                            "content": {"application/json": {"schema": body}},
                        }
                for status, response in responses.items():
                    if int(status) == 409:
                        response.setdefault("headers", {})["Retry-After"] = {
                            "description": "For `idempotency_in_progress`: seconds to wait.",
                            "schema": {"type": "integer"},
                        }
                    elif 200 <= int(status) < 300:
                        response.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = {
                            "description": "`true` when this is the stored first answer.",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
        return schema


api = MebukuAPI(
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
    parser=TextParser(),
)
api.add_router("", identity_router)
api.add_router("", proposals_router)
api.add_router("", debates_router)
api.add_router("", voting_router)


def _claim(request: HttpRequest) -> idempotency.Claim | None:
    """The write's `Idempotency-Key` as a claim, or None (not a write, or no key)."""
    value = request.headers.get(idempotency.HEADER)
    if value is None or request.method not in idempotency.METHODS:
        return None
    key = idempotency.key_from_header(value)

    def encode(result: object) -> idempotency.Answer:
        status, data = (
            (result.status_code, result.value) if isinstance(result, Status) else (200, result)
        )
        body = api.renderer.render(request, data, response_status=status)
        return idempotency.Answer(
            status, api.get_content_type(), body if isinstance(body, bytes) else body.encode()
        )

    return idempotency.Claim(
        key, idempotency.fingerprint(request.method, request.get_full_path(), request.body), encode
    )


def _idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Around every operation, after authentication and validation: a write's key is bound to
    the request for its act to take and store (identity/idempotency.py). A signed-in account's
    committed answer is replayed at once, before the view's own checks (which might now refuse);
    the micro-batched endpoints, whose account is known only in the batch, look it up there."""

    def bind(request: HttpRequest) -> idempotency.Claim | None:
        claim = _claim(request)
        user = getattr(request, "auth", None)
        if claim is not None and isinstance(user, User):
            (found,) = idempotency.answers_lookup([(user.pk, claim)])
            if found is not None:
                raise found
        return claim

    if iscoroutinefunction(view):

        @wraps(view)
        async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            # The batched endpoints' auth is a token (no account yet): no look-up here.
            token = idempotency.claim_bind(_claim(request))
            try:
                return await view(request, *args, **kwargs)
            finally:
                idempotency.claim_unbind(token)

        return async_view

    @wraps(view)
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        token = idempotency.claim_bind(bind(request))
        try:
            return view(request, *args, **kwargs)
        finally:
            idempotency.claim_unbind(token)

    return sync_view


api.add_decorator(_idempotent, mode="operation")


def _error(
    request: HttpRequest, status: int, code: str, message: str, **extra: object
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, str(exc.message))


@api.exception_handler(idempotency.Replay)
def _replay(request: HttpRequest, exc: idempotency.Replay) -> HttpResponse:
    return exc.answer.response(replayed=True)


@api.exception_handler(idempotency.IdempotencyInProgress)
def _in_progress(request: HttpRequest, exc: idempotency.IdempotencyInProgress) -> HttpResponse:
    response = _error(request, exc.status, exc.code, str(exc.message))
    response["Retry-After"] = str(idempotency.RETRY_AFTER_SECONDS)
    return response


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
    if isinstance(exc.__cause__, ValidationError):  # TextParser refused the body
        return _validation_error(request, exc.__cause__)
    if exc.status_code == 400:  # ninja could not parse the body
        return _error(request, 400, "bad_request", _("The request body is not valid JSON."))
    code = {403: "forbidden", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return _error(request, exc.status_code, code, str(exc))


def _api_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Each API view, with the rules that hold for every endpoint before and after ninja:
    - on a municipality's own host, only that municipality's paths exist (as for its pages,
      identity/middleware.py): `Host: maebashi…` with `/municipalities/kamakura/…` is a 404;
    - ninja answers a method an existing path does not take with a plain-text 405; the API
      answers it in its JSON error shape (with the `Allow` header kept)."""

    def elsewhere(request: HttpRequest, kwargs: dict[str, Any]) -> HttpResponseBase | None:
        host_municipality = getattr(request, "municipality", None)
        slug = kwargs.get("slug")
        if host_municipality is None or slug is None or slug == host_municipality.slug:
            return None
        return _error(request, 404, "not_found", _("Not found."))

    def answer(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        refused = _error(request, 405, "method_not_allowed", _("This method is not allowed here."))
        refused["Allow"] = response["Allow"]
        return refused

    if iscoroutinefunction(view):

        @wraps(view)
        async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            return elsewhere(request, kwargs) or answer(
                request, await view(request, *args, **kwargs)
            )

        return async_view

    @wraps(view)
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return elsewhere(request, kwargs) or answer(request, view(request, *args, **kwargs))

    return sync_view


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """`api.urls` for config/urls.py, each view under the rules of `_api_view`."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _api_view(pattern.callback)
    return patterns, app_name, namespace


def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """A path under /api/v1/ that names no endpoint: the API's JSON 404, not Django's page."""
    return _error(request, 404, "not_found", _("Not found."))
