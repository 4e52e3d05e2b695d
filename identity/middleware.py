"""Which municipality a request is for: its own host name, or the `/m/<slug>/` path prefix."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import get_script_prefix, set_script_prefix

from identity.models import Municipality

PREFIX = re.compile(r"^/m/(?P<slug>[-a-z0-9]+)(?P<rest>/.*)?$")
_TTL_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, Municipality | None]] = {}


def _lookup(field: str, value: str) -> Municipality | None:
    """Municipalities change rarely; a short per-process cache saves a query on every request."""
    key = (field, value)
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _TTL_SECONDS:
        return hit[1]
    found = Municipality.objects.filter(is_active=True, **{field: value}).first()
    # Cache a slug only when found, so a new municipality is served at once under /m/<slug>/. A
    # host that is no municipality's (the main site, the API host) is asked about on every request,
    # so its miss is cached too; a municipality given a new host is served on it within the TTL.
    if found is not None or field == "host":
        _cache[key] = (now, found)
    return found


def clear_cache() -> None:
    _cache.clear()


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
