"""Signing through the one request path: the async django-ninja endpoint awaits the shared
micro-batcher, which feeds `signature_add_many`; requests in flight together are signed in one
group commit and each gets its own answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from identity.models import AuditEntry, Municipality, User
from identity.session_tokens import SessionToken
from proposals import services
from proposals.models import Proposal, Signature, Status, TimelineEvent
from proposals.services.signatures import _signing
from tests.asgi import Reply, api_headers, asgi_call
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    session_token,
    verified,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _path(slug: str, proposal_id: int) -> str:
    return f"/api/v1/municipalities/{slug}/proposals/{proposal_id}/signature"


def _scenario(town: Municipality) -> tuple[Proposal, Proposal, list[User]]:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=2, name="batched")
    proposal = ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)
    closed = ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)
    now = timezone.now()
    Proposal.objects.filter(pk=closed.pk).update(
        collection_opens_at=now - timedelta(days=2), collection_closes_at=now - timedelta(minutes=1)
    )
    a, b, c = (verified(town) for _ in range(3))
    stranger: User = UserFactory.create()
    return proposal, closed, [a, b, c, stranger]


def test_the_endpoint_answers_each_case(town: Municipality) -> None:
    proposal, closed, (a, b, c, stranger) = _scenario(town)
    calls = [
        (_path(town.slug, proposal.pk), session_token(a)),
        (_path(town.slug, proposal.pk), session_token(a)),
        (_path(town.slug, proposal.pk), session_token(stranger)),
        (_path(town.slug, proposal.pk), session_token(b)),
        (_path(town.slug, proposal.pk), session_token(c)),
        (_path(town.slug, closed.pk), session_token(c)),
        (_path(town.slug, 999999), session_token(c)),
        (_path("no-such-town", proposal.pk), session_token(c)),
        (_path(town.slug, proposal.pk), "no-such-token"),
        (_path(town.slug, proposal.pk), None),
    ]
    replies = [asyncio.run(asgi_call(path, headers=api_headers(token))) for path, token in calls]
    assert [(r.status, r.body.get("code")) for r in replies] == [
        (201, None),
        (409, "already_signed"),
        (403, "not_verified"),
        (201, None),
        (201, None),
        (410, "collection_closed"),
        (404, "not_found"),
        (404, "not_found"),
        (401, "not_signed_in"),
        (401, "not_signed_in"),
    ]
    assert [r.body for r in replies if r.status == 201] == [
        {"signature_count": 1, "threshold": 2, "crossed_threshold": False},
        {"signature_count": 2, "threshold": 2, "crossed_threshold": True},
        {"signature_count": 3, "threshold": 2, "crossed_threshold": False},
    ]
    # Django's own response headers, as on every other endpoint.
    for reply in replies:
        assert reply.headers["content-language"] == "en"
        assert "Accept-Language" in reply.headers["vary"]
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["x-frame-options"] == "DENY"
    assert Signature.objects.filter(proposal=proposal).count() == 3
    assert AuditEntry.objects.filter(action="signature.add").count() == 3
    proposal.refresh_from_db()
    assert proposal.signature_count == 3 and proposal.status == Status.THRESHOLD_REACHED
    assert (
        TimelineEvent.objects.filter(proposal=proposal, status=Status.THRESHOLD_REACHED).count()
        == 1
    )


def test_messages_in_the_language_asked_for(town: Municipality) -> None:
    proposal, _closed, (a, *_rest) = _scenario(town)
    path = _path(town.slug, proposal.pk)
    asyncio.run(asgi_call(path, headers=api_headers(session_token(a))))
    english = asyncio.run(asgi_call(path, headers=api_headers(session_token(a), "en")))
    japanese = asyncio.run(asgi_call(path, headers=api_headers(session_token(a), "ja")))
    assert english.body == {
        "code": "already_signed",
        "message": "You have already signed this proposal.",
    }
    assert japanese.body["code"] == "already_signed"
    assert japanese.body["message"] != english.body["message"]
    assert japanese.headers["content-language"] == "ja"
    cookie = [(b"cookie", b"mebuku_language=ja"), *api_headers(session_token(a), "en")]
    assert asyncio.run(asgi_call(path, headers=cookie)).body == japanese.body


def _sign_together(requests: list[tuple[Any, int]], slug: str) -> list[Any]:
    """Submitted in one turn of the event loop: the batcher takes them as one batch."""

    async def together() -> list[Any]:
        return await asyncio.gather(
            *(
                services.signature_add_batched(
                    actor=actor, municipality_slug=slug, proposal_id=proposal_id
                )
                for actor, proposal_id in requests
            ),
            return_exceptions=True,
        )

    return asyncio.run(together())


def test_one_bad_request_never_fails_the_others_of_its_batch(town: Municipality) -> None:
    proposal, closed, (a, b, c, stranger) = _scenario(town)
    d = verified(town)
    services.signature_add(actor=d, municipality=town, proposal_id=proposal.pk)
    gone = verified(town)
    gone_token = session_token(gone)
    gone.set_password("a brand new passphrase 2026")
    gone.save()
    batches = _signing.batches
    outcomes = _sign_together(
        [
            (SessionToken(session_token(a)), proposal.pk),
            (SessionToken(gone_token), proposal.pk),  # a password change ended this session
            (SessionToken("x" * 32), proposal.pk),  # no such session
            (SessionToken(session_token(stranger)), proposal.pk),  # not verified
            (SessionToken(session_token(b)), proposal.pk),
            (SessionToken(session_token(a)), proposal.pk),  # the same person twice
            (SessionToken(session_token(d)), proposal.pk),  # signed already
            (SessionToken(session_token(c)), closed.pk),  # collection closed
            (c, proposal.pk),  # an account (a browser session) beside the tokens
        ],
        town.slug,
    )
    assert _signing.batches == batches + 1  # one batch
    answers = [
        ("ok", o.count) if isinstance(o, services.SignatureResult) else (type(o).__name__, o.code)
        for o in outcomes
    ]
    assert answers == [
        ("ok", 2),
        ("NotSignedIn", "not_signed_in"),
        ("NotSignedIn", "not_signed_in"),
        ("PermissionDenied", "not_verified"),
        ("ok", 3),
        ("Conflict", "already_signed"),
        ("Conflict", "already_signed"),
        ("Gone", "collection_closed"),
        ("ok", 4),
    ]
    proposal.refresh_from_db()
    assert proposal.signature_count == 4
    assert Signature.objects.filter(proposal=proposal).count() == 4


def test_requests_in_flight_together_share_batches(town: Municipality) -> None:
    """Through the whole stack: while one batch runs, the requests that arrive wait and go
    together in the next, so there are fewer batches than requests."""
    proposal, _closed, _signers = _scenario(town)
    signers = [verified(town) for _ in range(8)]
    tokens = [session_token(user) for user in signers]
    batches = _signing.batches

    async def together() -> list[Reply]:
        path = _path(town.slug, proposal.pk)
        return await asyncio.gather(
            *(asgi_call(path, headers=api_headers(token)) for token in tokens)
        )

    replies = asyncio.run(together())
    assert sorted(r.body["signature_count"] for r in replies) == list(range(1, 9))
    assert _signing.batches - batches < len(tokens)


@pytest.fixture
def small_pool() -> Any:
    """The production pool (psycopg's, through Django), only two connections and a short wait."""
    from django.db import connection, connections

    options = connections.settings["default"].setdefault("OPTIONS", {})
    connection.close()
    options["pool"] = {"min_size": 0, "max_size": 2, "timeout": 3}
    yield
    connection.close()
    connection.close_pool()
    del options["pool"]


@pytest.mark.postgres
def test_waiting_requests_never_starve_their_batch_of_a_connection(
    town: Municipality, small_pool: None
) -> None:
    """A request that waits for its batch holds no connection of its own (the session is looked
    up in the batch, the municipality cache gives its connection back): with a pool of two and
    cold caches, twelve signers in flight (apps and browsers) are all answered."""
    from django.test import Client

    proposal, _closed, _signers = _scenario(town)
    path = _path(town.slug, proposal.pk)
    people = [verified(town) for _ in range(12)]
    headers = []
    for index, person in enumerate(people):
        if index % 2:
            headers.append(api_headers(session_token(person)))
        else:
            browser = Client()
            browser.force_login(person)
            cookie = f"sessionid={browser.cookies['sessionid'].value}; csrftoken={'x' * 32}"
            headers.append(
                [
                    (b"cookie", cookie.encode()),
                    (b"x-csrftoken", b"x" * 32),
                    (b"accept-language", b"en"),
                ]
            )
    from identity.selectors import municipality_cache_clear

    municipality_cache_clear()

    async def together() -> list[Reply]:
        return await asyncio.gather(*(asgi_call(path, headers=h) for h in headers))

    replies = asyncio.run(together())
    assert [r.status for r in replies] == [201] * 12, [r.body for r in replies]


def test_a_signature_takes_one_thread_hop_besides_djangos_own(town: Municipality) -> None:
    """Middleware, authentication and the view run on the event loop; the only trip to a
    thread besides the two Django's ASGI handler makes for every request (request_started's sync
    receivers, response.close()) is the batch's one."""
    from asgiref.sync import SyncToAsync

    proposal, _closed, (a, b, *_rest) = _scenario(town)
    path = _path(town.slug, proposal.pk)
    asyncio.run(asgi_call(path, headers=api_headers(session_token(a))))  # warm caches
    hops: list[Any] = []
    original = SyncToAsync.__call__

    async def recording(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    SyncToAsync.__call__ = recording
    try:
        reply = asyncio.run(asgi_call(path, headers=api_headers(session_token(b))))
    finally:
        SyncToAsync.__call__ = original
    assert reply.status == 201, reply.body
    modules = sorted(getattr(f, "__module__", "?") for f in hops)
    assert modules == ["django.dispatch.dispatcher", "django.http.response", "identity.batching"]
