"""A base for the project's own small middleware that only does cheap work around the rest of
the chain (no I/O): natively async under ASGI, plain under WSGI and the test client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


class AroundMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def before(self, request: HttpRequest) -> Any:
        """Runs first; what it returns is handed to `finish`."""
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        """Runs on the response."""

    def finish(self, state: Any) -> None:
        """Runs last, whatever happened."""

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        state = self.before(request)
        try:
            response: HttpResponseBase = self.get_response(request)
            self.after(request, response)
            return response
        finally:
            self.finish(state)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        state = self.before(request)
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
            self.after(request, response)
            return response
        finally:
            self.finish(state)
