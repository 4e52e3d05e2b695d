"""Error pages the URLconf names (handler400, and allauth's handler429): each in the shape of the
part of the site that answers, so an API client always gets JSON and a person a readable page."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def _wants_json(request: HttpRequest) -> str | None:
    """'api' for the JSON API, 'headless' for allauth's app API, None for pages."""
    path = request.path_info
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/_allauth/"):
        return "headless"
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400, except a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or too many fields or files),
    which Django raises as a SuspiciousOperation (400): that is 413 Content Too Large."""
    kind = _wants_json(request)
    if not isinstance(exception, TOO_LARGE):
        if kind == "api":
            message = _("The request is not valid.")
            return JsonResponse({"code": "bad_request", "message": message}, status=400)
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    message = _("The request is too large.")
    if kind == "api":
        return JsonResponse({"code": "body_too_large", "message": message}, status=413)
    if kind == "headless":  # allauth's headless error shape
        body = {"status": 413, "errors": [{"code": "body_too_large", "message": message}]}
        return JsonResponse(body, status=413)
    return render(request, "errors/413.html", status=413)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's rate limits and our sign-in lockout (identity/signin.py) answer with this page;
    the Retry-After header is set by whoever knows the limit (config/security_headers.py)."""
    return render(request, "errors/429.html", status=429)
