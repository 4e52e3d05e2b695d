"""Guards for views: every refusal goes through a permission predicate and says why."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from identity.models import Municipality, User
from identity.permissions import Decision

View = Callable[..., HttpResponseBase]
Predicate = Callable[[Any, Municipality | None], Decision]


def municipality_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request, "municipality", None) is None:
            raise Http404("This page belongs to a municipality")
        return view(request, *args, **kwargs)

    return wrapped


def refusal_response(request: HttpRequest, decision: Decision) -> HttpResponseBase:
    """The one place a refused page is turned into a response."""
    if decision.code == "not_signed_in":
        return redirect_to_login(request.get_full_path())
    if decision.code == "mfa_required":
        messages.info(request, str(decision.message))
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    return render(request, "identity/forbidden.html", {"decision": decision}, status=403)


def staff_view(predicate: Predicate) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @municipality_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            decision = predicate(request.user, request.municipality)  # type: ignore[attr-defined]
            if not decision:
                return refusal_response(request, decision)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def current_user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def current_municipality(request: HttpRequest) -> Municipality:
    """The municipality the middleware resolved; the views that call this are guarded by
    `municipality_required` or `staff_view`, so the 404 is only a backstop."""
    municipality: Municipality | None = getattr(request, "municipality", None)
    if municipality is None:
        raise Http404("This page belongs to a municipality")
    return municipality
