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
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponseBase

from config.around import AroundMiddleware

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    made = offered if _WELL_FORMED.match(offered) else uuid.uuid4().hex
    request.request_id = made  # type: ignore[attr-defined]  # for Django's own request log
    return made


class RequestIdMiddleware(AroundMiddleware):
    def before(self, request: HttpRequest) -> Token[str]:
        return request_id.set(_id_for(request))

    def after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        response[HEADER] = request_id.get()

    def finish(self, state: Token[str]) -> None:
        request_id.reset(state)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request). Django logs a 4xx/5xx answer
    after the middleware has returned, naming the request: its id is taken from there."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id.get()
        return True
