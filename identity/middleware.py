"""Which municipality a request is for: its own host name, or the `/m/<slug>/` path prefix."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import get_script_prefix, set_script_prefix

from identity.selectors import municipality_cached as _lookup

PREFIX = re.compile(r"^/m/(?P<slug>[-a-z0-9]+)(?P<rest>/.*)?$")


class MunicipalityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.municipality = None  # type: ignore[attr-defined]
        host = request.get_host().rsplit(":", 1)[0].lower() if request.META.get("HTTP_HOST") else ""
        by_host = _lookup("host", host) if host else None
        if by_host is not None:
            # On its own host a municipality's pages sit at the root; `/m/…` is not served there,
            # so another municipality can never be reached through this host.
            request.municipality = by_host  # type: ignore[attr-defined]
            return self.get_response(request)
        match = PREFIX.match(request.path_info)
        if match is None:
            return self.get_response(request)
        municipality = _lookup("slug", match["slug"])
        if municipality is None:
            raise Http404("No such municipality")
        if match["rest"] is None:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
        request.municipality = municipality  # type: ignore[attr-defined]
        outer = get_script_prefix()
        request.path_info = match["rest"]
        set_script_prefix(f"{outer.rstrip('/')}/m/{municipality.slug}/")
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(outer)
