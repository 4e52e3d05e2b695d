"""A lean ASGI path for signing online with a session token (see config/lean_path.py):

    POST /api/v1/municipalities/<slug>/proposals/<id>/signature   (X-Session-Token: …)

The answers are those of the django-ninja endpoint `proposals.api.signature_add`: 201
`{signature_count, threshold, crossed_threshold}`, 409 `already_signed`, 403 with the
eligibility code, 410 `collection_closed`, 404, 401 — allauth's token check (answered for the
whole batch by `identity.session_tokens.users_for_session_tokens`) and the same service, through
its group commit (`signature_add_many`, which gives each signer what `signature_add` would).
Requests are batched by load, not by a timer: while the database thread is busy with the
previous batch, new requests wait and go together in the next one.
`MEBUKU_SIGN_FAST_PATH=0` switches the path off. See docs/decisions.md, "A lean path for
signing".
"""

from __future__ import annotations

import asyncio
import os
import re
import weakref
from functools import partial
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from config.lean_path import (
    DB,
    ASGIApp,
    Delegate,
    Receive,
    Reply,
    Route,
    Scope,
    Send,
    error_reply,
    is_secure,
    language_of,
    read_body,
    release,
    replay,
    respond,
)
from identity.errors import DomainError

SIGN_PATH = re.compile(
    r"^/api/v1/municipalities/(?P<slug>[-a-zA-Z0-9_]+)/proposals/(?P<proposal_id>[0-9]{1,18})"
    r"/signature$"
)

# At most this many signatures per batch transaction, and this many batches in flight per
# worker (the database pool has three threads, shared with the cast path). One in flight makes
# batches about twice as large as two did, sharing each batch's statements and the hot
# counter's lock-to-commit among more signers: faster on the bench (docs/benchmarks.md).
_CHUNK = 200
_IN_FLIGHT = 1


class _Ask:
    __slots__ = ("has_cookie", "language", "proposal_id", "slug", "token")

    def __init__(
        self, token: str, slug: str, proposal_id: int, language: str, has_cookie: bool
    ) -> None:
        self.token = token
        self.slug = slug
        self.proposal_id = proposal_id
        self.language = language
        self.has_cookie = has_cookie


_Answer = Reply | Delegate


def _sign_many(asks: list[_Ask]) -> list[_Answer]:
    """Authenticate each request, then sign each municipality's requests in one group commit."""
    from identity.selectors import municipality_cached
    from identity.session_tokens import users_for_session_tokens
    from proposals import services

    answers: list[_Answer | None] = [None] * len(asks)
    groups: dict[int, list[tuple[int, Any]]] = {}
    municipalities: dict[int, Any] = {}
    try:
        users = users_for_session_tokens([ask.token for ask in asks])
        for index, (ask, user) in enumerate(zip(asks, users, strict=True)):
            with translation.override(ask.language):
                if user is None:
                    if ask.has_cookie:
                        answers[index] = Delegate()  # Django tries the cookie (with CSRF)
                    else:
                        message = gettext("Please sign in first.")
                        answers[index] = (401, {"code": "not_signed_in", "message": message})
                    continue
                municipality = municipality_cached("slug", ask.slug)
                if municipality is None:
                    answers[index] = (404, {"code": "not_found", "message": gettext("Not found.")})
                    continue
            municipalities[municipality.pk] = municipality
            groups.setdefault(municipality.pk, []).append((index, user))
        for municipality_id, signers in groups.items():
            outcomes = services.signature_add_many(
                requests=[
                    services.SignRequest(user, asks[index].proposal_id) for index, user in signers
                ],
                municipality=municipalities[municipality_id],
            )
            for (index, _), outcome in zip(signers, outcomes, strict=True):
                with translation.override(asks[index].language):
                    if isinstance(outcome, DomainError):
                        answers[index] = error_reply(outcome)
                    else:
                        answers[index] = (
                            201,
                            {
                                "signature_count": outcome.count,
                                "threshold": outcome.threshold,
                                "crossed_threshold": outcome.crossed_threshold,
                            },
                        )
    finally:
        release()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


_Item = tuple[_Ask, "asyncio.Future[_Answer]"]


class _SignQueue:
    """Signing requests waiting for a database thread. Up to `_IN_FLIGHT` batches run at once;
    what arrives meanwhile waits and goes as one batch when one finishes."""

    def __init__(self) -> None:
        self._pending: list[_Item] = []
        self._running = 0
        self._scheduled = False

    async def sign(self, ask: _Ask) -> _Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Answer] = loop.create_future()
        self._pending.append((ask, future))
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pending and self._running < _IN_FLIGHT and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        loop = asyncio.get_running_loop()
        while self._pending and self._running < _IN_FLIGHT:
            items, self._pending = self._pending[:_CHUNK], self._pending[_CHUNK:]
            self._running += 1
            job = loop.run_in_executor(DB, _sign_many, [ask for ask, _ in items])
            job.add_done_callback(partial(self._done, items))

    def _done(self, items: list[_Item], job: asyncio.Future[list[_Answer]]) -> None:
        self._running -= 1
        error = None if job.cancelled() else job.exception()
        for index, (_, future) in enumerate(items):
            if future.done():
                continue
            if job.cancelled():
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(job.result()[index])
        self._schedule(asyncio.get_running_loop())


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SignQueue] = (
    weakref.WeakKeyDictionary()
)


def _sign_queue() -> _SignQueue:
    loop = asyncio.get_running_loop()
    found = _queues.get(loop)
    if found is None:
        found = _queues[loop] = _SignQueue()
    return found


async def _sign(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    headers: dict[str, str],
    match: re.Match[str],
) -> None:
    body = await read_body(receive)
    if body is None:
        return
    ask = _Ask(
        headers["x-session-token"],
        match["slug"],
        int(match["proposal_id"]),
        language_of(headers),
        "cookie" in headers,
    )
    answer = await _sign_queue().sign(ask)
    if isinstance(answer, Delegate):
        await app(scope, replay(body, receive), send)
        return
    await respond(send, answer[0], answer[1], is_secure(scope, headers))


SIGN_ROUTE = Route(SIGN_PATH, _sign)


def sign_routes() -> list[Route]:
    """The signing route, unless `MEBUKU_SIGN_FAST_PATH=0` switches it off."""
    return [] if os.environ.get("MEBUKU_SIGN_FAST_PATH", "1") == "0" else [SIGN_ROUTE]
