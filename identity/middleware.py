"""Which municipality a request is for: its own host name, or the `/m/<slug>/` path prefix.

Sync and natively async (Django's "Asynchronous support" for middleware): under ASGI the chain
stays on the event loop. The lookup answers from a per-process cache without I/O when its entry is
fresh (`municipality_cache_peek`); only a miss asks the database, in a thread (`sync_to_async`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import get_script_prefix, set_script_prefix

from identity.models import Municipality
from identity.selectors import municipality_cache_peek as _peek
from identity.selectors import municipality_cached as _lookup

PREFIX = re.compile(r"^/m/(?P<slug>[-a-z0-9]+)(?P<rest>/.*)?$")


async def _alookup(field: str, value: str) -> Municipality | None:
    fresh, municipality = _peek(field, value)
    if fresh:
        return municipality
    return await sync_to_async(_lookup)(field, value)


def _host(request: HttpRequest) -> str:
    return request.get_host().rsplit(":", 1)[0].lower() if request.META.get("HTTP_HOST") else ""


def _enter(
    request: HttpRequest, municipality: Municipality | None, match: re.Match[str]
) -> HttpResponse | str:
    """Under `/m/<slug>/`: 404 for an unknown slug, a redirect for `/m/<slug>` itself; otherwise
    the request is installed there and the outer script prefix returned, to restore afterwards."""
    if municipality is None:
        raise Http404("No such municipality")
    if match["rest"] is None:
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    request.municipality = municipality  # type: ignore[attr-defined]
    outer = get_script_prefix()
    request.path_info = match["rest"]
    set_script_prefix(f"{outer.rstrip('/')}/m/{municipality.slug}/")
    return outer


class MunicipalityMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.acall(request)
        request.municipality = None  # type: ignore[attr-defined]
        host = _host(request)
        by_host = _lookup("host", host) if host else None
        if by_host is not None:
            # On its own host a municipality's pages sit at the root; `/m/…` is not served there,
            # so another municipality can never be reached through this host.
            request.municipality = by_host  # type: ignore[attr-defined]
            return self.get_response(request)
        match = PREFIX.match(request.path_info)
        if match is None:
            return self.get_response(request)
        entered = _enter(request, _lookup("slug", match["slug"]), match)
        if not isinstance(entered, str):
            return entered
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(entered)

    async def acall(self, request: HttpRequest) -> HttpResponse:
        """`__call__` under ASGI: the same steps, with the lookups through `_alookup`."""
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        request.municipality = None  # type: ignore[attr-defined]
        host = _host(request)
        by_host = await _alookup("host", host) if host else None
        if by_host is not None:
            request.municipality = by_host  # type: ignore[attr-defined]
            return await get_response(request)
        match = PREFIX.match(request.path_info)
        if match is None:
            return await get_response(request)
        entered = _enter(request, await _alookup("slug", match["slug"]), match)
        if not isinstance(entered, str):
            return entered
        try:
            return await get_response(request)
        finally:
            set_script_prefix(entered)
