"""The lean ASGI path for token-authenticated casts (voting/asgi.py): the same answers as the
django-ninja endpoint, and everything it does not handle reaches Django untouched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from identity.models import User
from tests.factories import session_token
from tests.voting.conftest import Scenario
from tests.voting.test_services import NO, YES
from voting.asgi import cast_fast_path, close_connections
from voting.models import Ballot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_db_threads() -> Iterator[None]:
    yield
    close_connections()


async def _call(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Any:
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
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=30)
    end = await communicator.receive_output(timeout=30)
    names = {name.lower() for name, _value in start["headers"]}
    # Django's security headers, on the lean path's answers as on Django's.
    assert {b"x-content-type-options", b"x-frame-options", b"referrer-policy"} <= names
    return start["status"], json.loads(end["body"]) if end["body"] else None


def _cast(s: Scenario, token: str | None, body: Any, **extra: bytes) -> tuple[int, Any]:
    headers = [(b"content-type", b"application/json"), (b"accept-language", b"en")]
    if token is not None:
        headers.append((b"x-session-token", token.encode()))
    headers += [(k.replace("_", "-").encode(), v) for k, v in extra.items()]
    path = f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    app = cast_fast_path(get_asgi_application())
    return asyncio.run(_call(app, path, raw, headers))


def test_fast_path_answers_like_the_api(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[0]
    token = session_token(voter)
    status, body = _cast(s, token, s.ballot(voter, YES))
    assert status == 201, body
    assert set(body) == {"tracker", "cast_at", "replaced_previous"}
    assert body["replaced_previous"] is False
    status, again = _cast(s, token, s.ballot(voter, NO))
    assert status == 201 and again["replaced_previous"] is True
    stored = Ballot.objects.get(tracker=again["tracker"])
    assert not stored.superseded and stored.roll_entry.user == voter

    # 401, 403 with the reason code, 422 with the failing check, 422 for a malformed body.
    assert _cast(s, "no-such-token", s.ballot(voter, YES)) == (
        401,
        {"code": "not_signed_in", "message": "Please sign in first."},
    )
    status, teen = _cast(s, session_token(s.others["teen"]), s.ballot(voter, YES))
    assert status == 403 and teen["code"] == "under_age"
    bad = s.ballot(s.voters[1], YES)
    bad["answers"][0]["choices"][1]["proof"][1]["r"] = "5"
    status, rejected = _cast(s, session_token(s.voters[1]), bad)
    assert status == 422 and rejected["code"] == "ballot_invalid"
    assert any("check 5" in f for f in rejected["failures"])
    status, invalid = _cast(s, session_token(s.voters[1]), {"alias": 7, "answers": "x"})
    assert status == 422 and invalid["code"] == "invalid"
    assert _cast(s, session_token(s.voters[1]), b"{not json")[0] == 400
    status, stolen = _cast(s, session_token(s.voters[1]), s.ballot(voter, YES))
    assert status == 422 and stolen["code"] == "alias_mismatch"
    assert Ballot.objects.count() == 2

    # 409 after the close.
    s.close_and_decrypt()
    status, closed = _cast(s, session_token(s.voters[2]), s.ballot(s.voters[2], YES))
    assert status == 409 and closed["code"] == "election_closed"


def test_everything_else_goes_to_django() -> None:
    calls: list[str] = []

    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        calls.append(f"{scope['method']} {scope['path']} {message.get('body', b'')!r}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = cast_fast_path(django_app)
    path = "/api/v1/municipalities/maebashi/elections/1/ballots"

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
    asyncio.run(run(path, [(b"x-session-token", b"t")], method="GET"))
    asyncio.run(run(path + "/x", [(b"x-session-token", b"t")]))
    asyncio.run(run("/api/v1/municipalities/maebashi/elections", [(b"x-session-token", b"t")]))
    assert len(calls) == 4 and all(call.endswith("b'{}'") for call in calls)


def test_unknown_token_with_a_cookie_is_handed_to_django(scenario: Scenario) -> None:
    """allauth's token auth fails, so the ninja endpoint's cookie auth (with CSRF) decides."""
    s = scenario
    status, _body = _cast(s, "no-such-token", s.ballot(s.voters[0], YES), cookie=b"sessionid=zz")
    # Django's answer: cookie authentication needs the CSRF token (the lean path would say 401).
    assert status == 403
    assert not Ballot.objects.exists()


def test_the_lean_path_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    monkeypatch.setenv("MEBUKU_CAST_FAST_PATH", "0")
    assert cast_fast_path(django_app) is django_app
    monkeypatch.setenv("MEBUKU_CAST_FAST_PATH", "1")
    assert cast_fast_path(django_app) is not django_app


def test_casts_arriving_together_are_stored_together_with_their_own_answers(
    scenario: Scenario,
) -> None:
    """Casts in flight at once go through one verification batch and one group store; each
    gets its own answer in its own language: a voter's second ballot supersedes the first, a
    ballot sent twice is refused as a duplicate (in Japanese when asked for)."""
    s = scenario
    tokens = {voter.pk: session_token(voter) for voter in s.voters}
    first = {voter.pk: s.ballot(voter, YES) for voter in s.voters}
    second = s.ballot(s.voters[0], NO)
    path = f"/api/v1/municipalities/maebashi/elections/{s.election.pk}/ballots"
    app = cast_fast_path(get_asgi_application())

    def headers(voter: User, language: bytes = b"en") -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", b"application/json"),
            (b"accept-language", language),
            (b"x-session-token", tokens[voter.pk].encode()),
        ]

    async def together() -> list[Any]:
        casts = [_call(app, path, json.dumps(first[v.pk]).encode(), headers(v)) for v in s.voters]
        return await asyncio.gather(*casts)

    replies = asyncio.run(together())
    assert [status for status, _ in replies] == [201, 201, 201], replies
    assert all(body["replaced_previous"] is False for _, body in replies)

    async def again() -> list[Any]:
        v0, v1 = s.voters[0], s.voters[1]
        return await asyncio.gather(
            _call(app, path, json.dumps(second).encode(), headers(v0)),
            _call(app, path, json.dumps(first[v1.pk]).encode(), headers(v1, b"ja")),
        )

    (status, replaced), (dup_status, duplicate) = asyncio.run(again())
    assert status == 201 and replaced["replaced_previous"] is True
    assert dup_status == 409 and duplicate["code"] == "ballot_duplicate"
    assert duplicate["message"] != "This ballot has already been cast."  # Japanese
    counted = Ballot.objects.filter(election=s.election, superseded=False)
    assert sorted(b.tracker for b in counted) == sorted(
        [replaced["tracker"], replies[1][1]["tracker"], replies[2][1]["tracker"]]
    )
    assert Ballot.objects.filter(election=s.election).count() == 4
