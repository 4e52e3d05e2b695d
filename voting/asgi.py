"""A lean ASGI path for the one hot endpoint: casting a ballot with a session token.

    POST /api/v1/municipalities/<slug>/elections/<id>/ballots   (X-Session-Token: …)

Everything else, and any request this path does not fully understand (a session cookie, a host
outside ALLOWED_HOSTS, plain HTTP when HTTPS is required), goes to Django unchanged. The
endpoint's behaviour is the django-ninja one in voting/api.py (documented in the OpenAPI
schema): the same authentication (allauth's token check, through
`identity.session_tokens.users_for_session_tokens` as on the signing path), the same service
functions (`ballot_prepare`; `ballot_store_many`, which stores a verified batch together and
gives each ballot what `ballot_store` would), the same verification batcher and the same JSON
bodies and status codes. What it skips is the per-request framework work that dominated the
cast's CPU (middleware chain, URL resolution, a thread created per request): the database steps
run on a small fixed pool of threads, the proofs in the batcher's thread, the rest on the event
loop. The ASGI plumbing shared with the signing path (which requests a route may take, replies,
hand-off to Django, the database threads) is in config/lean_path.py. See docs/decisions.md, "A
lean ASGI path for casting"."""

from __future__ import annotations

import asyncio
import json
import os
import re
import weakref
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.utils import translation
from django.utils.translation import gettext
from pydantic import ValidationError

from config.lean_path import (
    DB,
    ASGIApp,
    Delegate,
    Receive,
    Reply,
    Route,
    Scope,
    Send,
    close_connections,
    is_secure,
    language_of,
    lean_path,
    read_body,
    release,
    replay,
    respond,
)
from config.lean_path import error_reply as _error
from identity.errors import DomainError
from voting.services.ballots import PreparedBallot

__all__ = ["CAST_ROUTE", "cast_fast_path", "close_connections"]

CAST_PATH = re.compile(
    r"^/api/v1/municipalities/(?P<slug>[-a-zA-Z0-9_]+)/elections/(?P<election_id>[0-9]{1,18})"
    r"/ballots$"
)


@dataclass(frozen=True)
class _Ready:
    user: Any
    prepared: PreparedBallot


def _prepare(
    token: str, slug: str, election_id: int, payload: Any, language: str, has_cookie: bool
) -> _Ready | Reply | Delegate:
    """Authenticate and run the cheap checks: (user, prepared ballot) or a reply."""
    from identity.selectors import municipality_cached
    from identity.session_tokens import users_for_session_tokens
    from voting import services
    from voting.api import BallotIn

    try:
        with translation.override(language):
            (user,) = users_for_session_tokens([token])  # as the signing path, batch of one
            if user is None:
                if has_cookie:
                    return Delegate()  # Django tries the session cookie (with CSRF)
                return 401, {"code": "not_signed_in", "message": gettext("Please sign in first.")}
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
        release()


def _rejected(rejected: Any) -> dict[str, Any]:
    return {"code": rejected.code, "message": str(rejected.message), "failures": rejected.failures}


def _receipt_reply(outcome: Any) -> Reply:
    if isinstance(outcome, DomainError):
        return _error(outcome)
    return 201, {
        "tracker": outcome.tracker,
        "cast_at": outcome.cast_at,
        "replaced_previous": outcome.replaced_previous,
    }


def _store_many(casts: list[tuple[Any, PreparedBallot, str]]) -> list[Reply]:
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
        release()


# At most this many ballots per store transaction (a verification batch is at most 200).
_STORE_CHUNK = 100

_StoreItem = tuple[Any, PreparedBallot, str, "asyncio.Future[Reply]"]


class _StoreQueue:
    """Ballots whose proofs held, waiting to be stored. A verification batch resolves all its
    ballots in one step of the event loop; their casts resume in the next and queue here, and
    the step after that hands them to one database thread as one group."""

    def __init__(self) -> None:
        self._pending: list[_StoreItem] = []
        self._scheduled = False

    async def store(self, user: Any, prepared: PreparedBallot, language: str) -> Reply:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
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
                DB, _store_many, [(user, prepared, lang) for user, prepared, lang, _ in items]
            )
            job.add_done_callback(partial(self._done, items))

    @staticmethod
    def _done(items: list[_StoreItem], job: asyncio.Future[list[Reply]]) -> None:
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


async def _cast(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    headers: dict[str, str],
    match: re.Match[str],
) -> None:
    from voting.services import BallotRejected
    from voting.services.batching import batcher

    body = await read_body(receive)
    if body is None:
        return
    language = language_of(headers)
    secure = is_secure(scope, headers)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        with translation.override(language):
            message = gettext("The request is not valid.")
        await respond(send, 400, {"code": "bad_request", "message": message}, secure)
        return
    loop = asyncio.get_running_loop()
    outcome = await loop.run_in_executor(
        DB,
        _prepare,
        headers["x-session-token"],
        match["slug"],
        int(match["election_id"]),
        payload,
        language,
        "cookie" in headers,
    )
    if isinstance(outcome, Delegate):
        await app(scope, replay(body, receive), send)
        return
    if not isinstance(outcome, _Ready):
        await respond(send, outcome[0], outcome[1], secure)
        return
    user, prepared = outcome.user, outcome.prepared
    failures = await batcher().verify(prepared.ctx, prepared.content)
    if failures:
        with translation.override(language):
            await respond(send, 422, _rejected(BallotRejected(failures)), secure)
        return
    status, reply = await _store_queue().store(user, prepared, language)
    await respond(send, status, reply, secure)


CAST_ROUTE = Route(CAST_PATH, _cast)


def cast_routes() -> list[Route]:
    """The cast route, unless `MEBUKU_CAST_FAST_PATH=0` switches it off (every cast then goes
    through django-ninja)."""
    return [] if os.environ.get("MEBUKU_CAST_FAST_PATH", "1") == "0" else [CAST_ROUTE]


def cast_fast_path(app: ASGIApp) -> ASGIApp:
    """Wrap Django's ASGI application; only token-authenticated casts take the lean path."""
    return lean_path(app, cast_routes())
