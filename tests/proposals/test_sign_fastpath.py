"""The lean ASGI path for token-authenticated signing (proposals/lean.py): the same answers as
the django-ninja endpoint, signers in flight together signed in one group commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application
from django.utils import timezone

from config.lean_path import close_connections, lean_path
from identity.models import AuditEntry, Municipality, User
from proposals.lean import sign_routes
from proposals.models import Proposal, Signature, Status, TimelineEvent
from tests.factories import UserFactory, session_token
from tests.proposals.conftest import citizen_type, collecting, verified

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_db_threads() -> Iterator[None]:
    yield
    close_connections()


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=30)
    end = await communicator.receive_output(timeout=30)
    names = {name.lower() for name, _value in start["headers"]}
    assert {b"x-content-type-options", b"x-frame-options", b"referrer-policy"} <= names
    return start["status"], json_or_none(end["body"])


def json_or_none(body: bytes) -> Any:
    import json

    return json.loads(body) if body else None


def _headers(token: str | None, language: bytes = b"en") -> list[tuple[bytes, bytes]]:
    headers = [(b"accept-language", language)]
    if token is not None:
        headers.append((b"x-session-token", token.encode()))
    return headers


def _path(slug: str, proposal_id: int) -> str:
    return f"/api/v1/municipalities/{slug}/proposals/{proposal_id}/signature"


def _lean() -> Any:
    app = lean_path(get_asgi_application(), sign_routes())
    assert app is not None
    return app


def _scenario(town: Municipality, name: str) -> tuple[Proposal, Proposal, list[User]]:
    kind = citizen_type(town, threshold_fixed=2, name=name)
    proposal = collecting(town, kind, verified(town))
    closed = collecting(town, kind, verified(town))
    now = timezone.now()
    Proposal.objects.filter(pk=closed.pk).update(
        collection_opens_at=now - timedelta(days=2), collection_closes_at=now - timedelta(minutes=1)
    )
    a, b, c = (verified(town) for _ in range(3))
    stranger: User = UserFactory.create()
    return proposal, closed, [a, b, c, stranger]


def _run(app: Any, town: Municipality, name: str) -> list[tuple[int, Any]]:
    proposal, closed, (a, b, c, stranger) = _scenario(town, name)
    calls = [
        (_path(town.slug, proposal.pk), session_token(a)),  # 201, count 1
        (_path(town.slug, proposal.pk), session_token(a)),  # 409 already_signed
        (_path(town.slug, proposal.pk), session_token(stranger)),  # 403 not_verified
        (_path(town.slug, proposal.pk), session_token(b)),  # 201, crosses at 2
        (_path(town.slug, proposal.pk), session_token(c)),  # 201, count 3
        (_path(town.slug, closed.pk), session_token(c)),  # 410 collection_closed
        (_path(town.slug, 999999), session_token(c)),  # 404
        (_path("no-such-town", proposal.pk), session_token(c)),  # 404
        (_path(town.slug, proposal.pk), "no-such-token"),  # 401
    ]
    return [asyncio.run(_call(app, path, _headers(token))) for path, token in calls]


def test_the_lean_path_answers_like_the_api(town: Municipality) -> None:
    lean = _run(_lean(), town, "lean")
    django = _run(get_asgi_application(), town, "django")
    assert [status for status, _ in lean] == [201, 409, 403, 201, 201, 410, 404, 404, 401]
    assert lean[0][1] == {"signature_count": 1, "threshold": 2, "crossed_threshold": False}
    assert lean[3][1] == {"signature_count": 2, "threshold": 2, "crossed_threshold": True}
    assert [body["code"] for _, body in lean[1:3]] == ["already_signed", "not_verified"]
    assert lean[5][1]["code"] == "collection_closed"
    assert lean[8][1] == {"code": "not_signed_in", "message": "Please sign in first."}
    # The same statuses and bodies as django-ninja (its 404 body is ninja's own). An unknown
    # token: ninja falls through to its cookie auth, whose CSRF check refuses over real ASGI
    # (403); the lean path answers the documented 401, as the cast path does and as the API
    # answers under the test client (tests/proposals/test_api.py).
    assert [s for s, _ in lean][:8] == [s for s, _ in django][:8]
    assert django[8][0] == 403
    same = [0, 1, 2, 3, 4, 5]
    assert [lean[i][1] for i in same] == [django[i][1] for i in same]
    assert Signature.objects.count() == 6


def test_signers_in_flight_together_are_signed_together(town: Municipality) -> None:
    proposal = collecting(town, citizen_type(town, threshold_fixed=7), verified(town))
    signers = [verified(town) for _ in range(12)]
    tokens = [session_token(user) for user in signers]
    app = _lean()
    path = _path(town.slug, proposal.pk)

    async def together() -> list[tuple[int, Any]]:
        calls = [_call(app, path, _headers(token)) for token in tokens]
        calls.append(_call(app, path, _headers(tokens[0], b"ja")))  # the same signer twice
        return await asyncio.gather(*calls)

    replies = asyncio.run(together())
    assert sorted(status for status, _ in replies) == [201] * 12 + [409]
    ok = [body for status, body in replies if status == 201]
    assert sorted(body["signature_count"] for body in ok) == list(range(1, 13))
    assert [body["signature_count"] for body in ok if body["crossed_threshold"]] == [7]
    refused = next(body for status, body in replies if status == 409)
    assert refused["code"] == "already_signed"
    assert refused["message"] != "You have already signed this proposal."  # Japanese
    proposal.refresh_from_db()
    assert proposal.signature_count == 12 == Signature.objects.filter(proposal=proposal).count()
    assert proposal.status == Status.THRESHOLD_REACHED
    assert (
        TimelineEvent.objects.filter(proposal=proposal, status=Status.THRESHOLD_REACHED).count()
        == 1
    )
    assert AuditEntry.objects.filter(action="signature.add").count() == 12


def test_everything_else_goes_to_django() -> None:
    calls: list[str] = []

    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        calls.append(f"{scope['method']} {scope['path']} {message.get('body', b'')!r}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = lean_path(django_app, sign_routes())
    path = _path("maebashi", 1)

    async def run(path: str, headers: list[tuple[bytes, bytes]], method: str = "POST") -> None:
        scope = {
            "type": "http",
            "method": method,
            "scheme": "http",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), *headers],
        }
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b"{}"})
        assert (await communicator.receive_output(timeout=5))["status"] == 204
        await communicator.receive_output(timeout=5)

    asyncio.run(run(path, [(b"cookie", b"sessionid=x")]))  # browsers: session cookie + CSRF
    asyncio.run(run(path, [(b"x-session-token", b"t")], method="DELETE"))  # withdrawing
    asyncio.run(run(path + "s", [(b"x-session-token", b"t")]))
    asyncio.run(run(path, [(b"x-session-token", b"t"), (b"host", b"evil.example")][1:]))
    assert len(calls) == 4 and all(call.endswith("b'{}'") for call in calls)


def test_the_lean_path_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    monkeypatch.setenv("MEBUKU_SIGN_FAST_PATH", "0")
    assert lean_path(django_app, sign_routes()) is django_app
    monkeypatch.setenv("MEBUKU_SIGN_FAST_PATH", "1")
    assert lean_path(django_app, sign_routes()) is not django_app


def test_signers_of_several_proposals_in_flight_together(town: Municipality) -> None:
    """One batch may carry requests for several proposals (one group commit per municipality):
    each proposal counts its own signers, a person may sign both."""
    kind = citizen_type(town, threshold_fixed=3)
    first, second = (collecting(town, kind, verified(town)) for _ in range(2))
    signers = [verified(town) for _ in range(5)]
    tokens = [session_token(user) for user in signers]
    app = _lean()

    async def together() -> list[tuple[int, Any]]:
        calls = [_call(app, _path(town.slug, first.pk), _headers(token)) for token in tokens]
        calls += [_call(app, _path(town.slug, second.pk), _headers(token)) for token in tokens[:4]]
        return await asyncio.gather(*calls)

    replies = asyncio.run(together())
    assert [status for status, _ in replies] == [201] * 9
    for proposal, bodies, n in ((first, replies[:5], 5), (second, replies[5:], 4)):
        assert sorted(body["signature_count"] for _, body in bodies) == list(range(1, n + 1))
        assert [b["signature_count"] for _, b in bodies if b["crossed_threshold"]] == [3]
        proposal.refresh_from_db()
        assert proposal.signature_count == n == Signature.objects.filter(proposal=proposal).count()
        assert proposal.status == Status.THRESHOLD_REACHED
