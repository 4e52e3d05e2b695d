"""A request id for every request, in its response (`X-Request-ID`) and in every log line written
while it is handled (including from the threads Django runs sync code in: the id lives in a
context variable, which asgiref carries into them).

A well-formed `X-Request-ID` from the proxy in front is kept, so one id follows the request
through both; anything else is replaced by a new one.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    made = offered if _WELL_FORMED.match(offered) else uuid.uuid4().hex
    request.request_id = made  # type: ignore[attr-defined]  # for Django's own request log
    return made


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        token = request_id.set(_id_for(request))
        try:
            response: HttpResponseBase = self.get_response(request)
            response[HEADER] = request_id.get()
            return response
        finally:
            request_id.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        token = request_id.set(_id_for(request))
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
            response[HEADER] = request_id.get()
            return response
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request). Django logs a 4xx/5xx answer
    after the middleware has returned, naming the request: its id is taken from there."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id.get()
        return True
