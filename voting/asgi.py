"""A lean ASGI path for the one hot endpoint: casting a ballot with a session token.

    POST /api/v1/municipalities/<slug>/elections/<id>/ballots   (X-Session-Token: …)

Everything else, and any request this path does not fully understand (a session cookie, a host
outside ALLOWED_HOSTS, plain HTTP when HTTPS is required), goes to Django unchanged. The
endpoint's behaviour is the django-ninja one in voting/api.py (documented in the OpenAPI
schema): the same authentication (allauth's session-token lookup), the same service functions
(`ballot_prepare`; `ballot_store_many`, which stores a verified batch together and gives each
ballot what `ballot_store` would), the same verification batcher and the same JSON bodies and
status codes. What it skips is the per-request framework work that dominated the cast's CPU
(middleware chain, URL resolution, a thread created per request): the database steps run on a
small fixed pool of threads, the proofs in the batcher's thread, the rest on the event loop.
See docs/decisions.md, "A lean ASGI path for casting".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.translation import gettext
from pydantic import ValidationError

from identity.errors import DomainError
from voting.services.ballots import PreparedBallot

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

CAST_PATH = re.compile(
    r"^/api/v1/municipalities/(?P<slug>[-a-zA-Z0-9_]+)/elections/(?P<election_id>[0-9]{1,18})"
    r"/ballots$"
)
# Threads for the two short database steps of a cast; each has its own pooled connection.
_DB = ThreadPoolExecutor(max_workers=3, thread_name_prefix="cast-db")


@dataclass(frozen=True)
class _Ready:
    user: Any
    prepared: PreparedBallot


class _Delegate:
    """Hand the request to Django after all (e.g. a session cookie instead of a token)."""


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _handles(scope: Scope, headers: dict[str, str]) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or "x-session-token" not in headers:
        return False
    if not CAST_PATH.match(scope["path"]) or scope.get("root_path"):
        return False
    domain, _port = split_domain_port(headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False  # Django answers 400, as for every other request
    # Plain HTTP where HTTPS is required: Django redirects.
    return not (settings.SECURE_SSL_REDIRECT and not _is_secure(scope, headers))


def _is_secure(scope: Scope, headers: dict[str, str]) -> bool:
    if scope.get("scheme") == "https":
        return True
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower()
        return headers.get(name) == proxy[1]
    return False


def _language(headers: dict[str, str]) -> str:
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
    threads = _DB._max_workers
    barrier = threading.Barrier(threads)

    def close() -> None:
        barrier.wait(timeout=10)  # one job per thread: none can take two
        connection.close()

    for job in [_DB.submit(close) for _ in range(threads)]:
        job.result(timeout=20)


def _release() -> None:
    """Each database thread keeps its connection between casts (three threads per worker, so
    they stay bounded); one that failed is checked and replaced, as Django does between
    requests."""
    if connection.connection is None or not connection.errors_occurred:
        return
    if connection.is_usable():
        connection.errors_occurred = False
    elif not connection.in_atomic_block:
        connection.close()


_Reply = tuple[int, dict[str, Any]]


def _error(exc: DomainError) -> _Reply:
    return exc.status, {"code": exc.code, "message": str(exc.message)}


def _prepare(
    token: str, slug: str, election_id: int, payload: Any, language: str, has_cookie: bool
) -> _Ready | _Reply | _Delegate:
    """Authenticate and run the cheap checks: (user, prepared ballot) or a reply."""
    from allauth.headless.internal.sessionkit import authenticate_by_x_session_token

    from identity.selectors import municipality_cached
    from voting import services
    from voting.api import BallotIn

    try:
        with translation.override(language):
            found = authenticate_by_x_session_token(token)
            if found is None:
                if has_cookie:
                    return _Delegate()  # Django tries the session cookie (with CSRF)
                return 401, {"code": "not_signed_in", "message": gettext("Please sign in first.")}
            user = found[0]
            try:
                ballot = BallotIn.model_validate(payload).dict()
            except ValidationError as invalid:
                return 422, {
                    "code": "invalid",
                    "message": gettext("The request is not valid."),
                    "errors": json.loads(invalid.json(include_url=False)),
                }
            municipality = municipality_cached("slug", slug)
            if municipality is None:
                return 404, {"code": "not_found", "message": gettext("Not found.")}
            try:
                prepared = services.ballot_prepare(
                    actor=user,
                    municipality=municipality,
                    election_id=election_id,
                    ballot_json=ballot,
                )
            except services.BallotRejected as rejected:
                return 422, _rejected(rejected)
            except DomainError as refused:
                return _error(refused)
            return _Ready(user, prepared)
    finally:
        _release()


def _rejected(rejected: Any) -> dict[str, Any]:
    return {"code": rejected.code, "message": str(rejected.message), "failures": rejected.failures}


def _receipt_reply(outcome: Any) -> _Reply:
    if isinstance(outcome, DomainError):
        return _error(outcome)
    return 201, {
        "tracker": outcome.tracker,
        "cast_at": outcome.cast_at,
        "replaced_previous": outcome.replaced_previous,
    }


def _store_many(casts: list[tuple[Any, PreparedBallot, str]]) -> list[_Reply]:
    """Store the verified ballots that are ready together (group commit, see
    services.ballot_store_many); each gets its own reply in its own language."""
    from voting import services

    try:
        outcomes = services.ballot_store_many([(user, prepared) for user, prepared, _ in casts])
        replies = []
        for (_, _, language), outcome in zip(casts, outcomes, strict=True):
            with translation.override(language):
                replies.append(_receipt_reply(outcome))
        return replies
    finally:
        _release()


# At most this many ballots per store transaction (a verification batch is at most 200).
_STORE_CHUNK = 100

_StoreItem = tuple[Any, PreparedBallot, str, "asyncio.Future[_Reply]"]


class _StoreQueue:
    """Ballots whose proofs held, waiting to be stored. A verification batch resolves all its
    ballots in one step of the event loop; their casts resume in the next and queue here, and
    the step after that hands them to one database thread as one group."""

    def __init__(self) -> None:
        self._pending: list[_StoreItem] = []
        self._scheduled = False

    async def store(self, user: Any, prepared: PreparedBallot, language: str) -> _Reply:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Reply] = loop.create_future()
        self._pending.append((user, prepared, language, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        loop = asyncio.get_running_loop()
        for start in range(0, len(pending), _STORE_CHUNK):
            items = pending[start : start + _STORE_CHUNK]
            job = loop.run_in_executor(
                _DB, _store_many, [(user, prepared, lang) for user, prepared, lang, _ in items]
            )
            job.add_done_callback(partial(self._done, items))

    @staticmethod
    def _done(items: list[_StoreItem], job: asyncio.Future[list[_Reply]]) -> None:
        error = None if job.cancelled() else job.exception()
        for index, (_, _, _, future) in enumerate(items):
            if future.done():
                continue
            if job.cancelled():
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(job.result()[index])


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _StoreQueue] = (
    weakref.WeakKeyDictionary()
)


def _store_queue() -> _StoreQueue:
    loop = asyncio.get_running_loop()
    found = _queues.get(loop)
    if found is None:
        found = _queues[loop] = _StoreQueue()
    return found


async def _read_body(receive: Receive) -> bytes | None:
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


def _security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
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


async def _respond(send: Send, status: int, body: dict[str, Any], secure: bool = False) -> None:
    data = json.dumps(body, cls=DjangoJSONEncoder).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
                *_security_headers(secure),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for Django after this path has read the body."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _cast(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
) -> None:
    from voting.services import BallotRejected
    from voting.services.batching import batcher

    match = CAST_PATH.match(scope["path"])
    assert match is not None
    body = await _read_body(receive)
    if body is None:
        return
    language = _language(headers)
    secure = _is_secure(scope, headers)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        with translation.override(language):
            message = gettext("The request is not valid.")
        await _respond(send, 400, {"code": "bad_request", "message": message}, secure)
        return
    loop = asyncio.get_running_loop()
    outcome = await loop.run_in_executor(
        _DB,
        _prepare,
        headers["x-session-token"],
        match["slug"],
        int(match["election_id"]),
        payload,
        language,
        "cookie" in headers,
    )
    if isinstance(outcome, _Delegate):
        await app(scope, _replay(body, receive), send)
        return
    if not isinstance(outcome, _Ready):
        await _respond(send, outcome[0], outcome[1], secure)
        return
    user, prepared = outcome.user, outcome.prepared
    failures = await batcher().verify(prepared.ctx, prepared.content)
    if failures:
        with translation.override(language):
            await _respond(send, 422, _rejected(BallotRejected(failures)), secure)
        return
    status, reply = await _store_queue().store(user, prepared, language)
    await _respond(send, status, reply, secure)


def cast_fast_path(app: ASGIApp) -> ASGIApp:
    """Wrap Django's ASGI application; only token-authenticated casts take the lean path.
    `MEBUKU_CAST_FAST_PATH=0` switches it off (every cast then goes through django-ninja)."""
    if os.environ.get("MEBUKU_CAST_FAST_PATH", "1") == "0":
        return app

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = _headers(scope)
            if _handles(scope, headers):
                await _cast(app, scope, receive, send, headers)
                return
        await app(scope, receive, send)

    return application
