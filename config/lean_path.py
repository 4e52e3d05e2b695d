"""The shared machinery of the lean ASGI paths: a few hot, token-authenticated POST endpoints
answered without Django's per-request framework work (middleware chain, URL resolution, a
thread created per request), everything else handed to Django unchanged.

A route is a path regex and a handler. A request takes a route only when it is a POST with an
`X-Session-Token` header to a matching path, for a host in ALLOWED_HOSTS and (where HTTPS is
required) over HTTPS; anything else goes to Django, which answers as usual (400 for a bad host,
a redirect for plain HTTP). Handlers reply with the same JSON bodies, status codes and security
headers as the django-ninja endpoints they stand for, and may still hand a request to Django
(`Delegate`, e.g. an unknown token with a session cookie). The database work runs on a small
fixed pool of threads (`DB`), each keeping its own pooled connection.
See docs/decisions.md, "A lean ASGI path for casting" and "A lean path for signing".
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http.request import split_domain_port, validate_host

from identity.errors import DomainError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]
Reply = tuple[int, dict[str, Any]]

# Threads for the short database steps of the lean paths; each has its own pooled connection.
DB = ThreadPoolExecutor(max_workers=3, thread_name_prefix="lean-db")


class Delegate:
    """Hand the request to Django after all (e.g. a session cookie instead of a token)."""


# handler(app, scope, receive, send, headers, match): answers the request or hands it to `app`.
Handler = Callable[
    [ASGIApp, Scope, Receive, Send, dict[str, str], "re.Match[str]"], Awaitable[None]
]


@dataclass(frozen=True)
class Route:
    path: re.Pattern[str]
    handler: Handler


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _taken(scope: Scope, headers: dict[str, str]) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or "x-session-token" not in headers:
        return False
    if scope.get("root_path"):
        return False
    domain, _port = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False  # Django answers 400, as for every other request
    # Plain HTTP where HTTPS is required: Django redirects.
    return not (settings.SECURE_SSL_REDIRECT and not is_secure(scope, headers))


def is_secure(scope: Scope, headers: dict[str, str]) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower()
        return headers.get(name) == proxy[1]
    return False


def language_of(headers: dict[str, str]) -> str:
    from django.utils.translation.trans_real import (
        get_supported_language_variant,
        parse_accept_lang_header,
    )

    for code, _q in parse_accept_lang_header(headers.get("accept-language", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def close_connections() -> None:
    """Close the database threads' connections (each thread closes its own): at shutdown and
    after tests, which must leave no session on the test database."""
    threads = DB._max_workers
    barrier = threading.Barrier(threads)

    def close() -> None:
        barrier.wait(timeout=10)  # one job per thread: none can take two
        connection.close()

    for job in [DB.submit(close) for _ in range(threads)]:
        job.result(timeout=20)


def release() -> None:
    """Each database thread keeps its connection between requests (three threads per worker,
    so they stay bounded); one that failed is checked and replaced, as Django does between
    requests."""
    if connection.connection is None or not connection.errors_occurred:
        return
    if connection.is_usable():
        connection.errors_occurred = False
    elif not connection.in_atomic_block:
        connection.close()


def error_reply(exc: DomainError) -> Reply:
    return exc.status, {"code": exc.code, "message": str(exc.message)}


async def read_body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b""
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to Django's responses."""
    headers = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
    for name, value in (
        (b"referrer-policy", settings.SECURE_REFERRER_POLICY),
        (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY),
        (b"x-frame-options", settings.X_FRAME_OPTIONS),
    ):
        if value:
            text = value if isinstance(value, str) else ",".join(value)
            headers.append((name, text.encode()))
    if secure and settings.SECURE_HSTS_SECONDS:
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append((b"strict-transport-security", value.encode()))
    return headers


async def respond(send: Send, status: int, body: dict[str, Any], secure: bool = False) -> None:
    data = json.dumps(body, cls=DjangoJSONEncoder).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
                *security_headers(secure),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for Django after a lean path has read the body."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def lean_path(app: ASGIApp, routes: Sequence[Route]) -> ASGIApp:
    """Wrap Django's ASGI application: requests matching one of `routes` (see the module
    docstring) take that route's handler; all else goes to `app`."""
    if not routes:
        return app

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = headers_of(scope)
            if _taken(scope, headers):
                for route in routes:
                    match = route.path.match(scope["path"])
                    if match is not None:
                        await route.handler(app, scope, receive, send, headers, match)
                        return
        await app(scope, receive, send)

    return application
