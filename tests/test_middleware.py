"""The middleware chain under ASGI: natively async (config/middleware.py), no thread hop for an
anonymous GET, and the same behaviour as Django's classes (sessions, messages, CSRF, language)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib import messages
from django.core.asgi import get_asgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.test import AsyncClient
from django.urls import path
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from identity.selectors import municipality_cached
from tests.factories import MunicipalityFactory


async def probe(request: HttpRequest) -> HttpResponse:
    """An async view using what pages use: the municipality, the language, the CSRF token (a
    cookie on the way out) and the messages (read, so the storage is marked used)."""
    get_token(request)
    municipality = request.municipality
    return JsonResponse(
        {
            "municipality": municipality.slug if municipality else None,
            "language": request.LANGUAGE_CODE,
            "messages": [str(m) for m in messages.get_messages(request)],
            "visits": await request.session.aget("visits", 0),
        }
    )


async def visit(request: HttpRequest) -> HttpResponse:
    """A POST that changes the session and leaves a message (CSRF-checked)."""
    await request.session.aset("visits", await request.session.aget("visits", 0) + 1)
    messages.info(request, "visited")
    return JsonResponse({"ok": True})


urlpatterns = [path("probe/", probe), path("visit/", visit)]


def test_every_middleware_is_natively_async() -> None:
    """Each class says it can run async, none is Django's MiddlewareMixin adapted per hook, and
    building the ASGI handler wraps nothing (Django wraps a sync middleware, or a sync
    process_view, in sync_to_async/async_to_sync as it loads the chain)."""
    for dotted in settings.MIDDLEWARE:
        cls = import_string(dotted)
        assert getattr(cls, "async_capable", False), f"{dotted} is not async-capable"
        if isinstance(cls, type) and issubclass(cls, MiddlewareMixin):
            assert cls.__call__ is not MiddlewareMixin.__call__, f"{dotted} hops per hook"
    adapted: list[Any] = []
    with _recording(adapted, SyncToAsync, "__init__"), _recording(adapted, AsyncToSync, "__init__"):
        get_asgi_application()
    assert adapted == [], f"adapted while loading the chain: {adapted}"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_anonymous_get_under_asgi_makes_no_thread_hop() -> None:
    """An anonymous GET of an async view through Django's ASGI handler, the municipality cached:
    every hook runs on the event loop. The only hops are the ASGI handler's own (Django sends
    request_started to its sync receivers and closes the response in a thread), none from the
    middleware or the view."""
    town = MunicipalityFactory(slug="hop-town")
    municipality_cached("slug", town.slug)  # the cache, filled here (the test's transaction)
    municipality_cached("host", "testserver")
    app = get_asgi_application()
    path = f"/m/{town.slug}/probe/"
    async_to_sync(_get)(app, path)  # warm: first-request work is not the steady state
    hops: list[Any] = []
    with _recording(hops, SyncToAsync, "__call__"):
        status, headers, body = async_to_sync(_get)(app, path)
    assert status == 200
    assert body == {"municipality": town.slug, "language": "en", "messages": [], "visits": 0}
    assert headers[b"content-language"] == b"en"
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"csrftoken=" in headers[b"set-cookie"]
    handler_own = {"django.dispatch.dispatcher", "django.http.response"}
    others = [f for f in hops if getattr(f, "__module__", None) not in handler_own]
    assert others == [], f"thread hops besides the ASGI handler's own: {others}"
    assert len(hops) == 2, hops  # request_started's sync receivers, response.close()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_sessions_messages_csrf_and_language_work_in_async_mode() -> None:
    """The async path of each class (Django's AsyncClient loads the chain in async mode): CSRF is
    enforced, a modified session is saved (in a thread) and read back, a message survives the
    redirect and is shown once, the language cookie wins over Accept-Language."""
    town = MunicipalityFactory(slug="async-town")

    async def scenario() -> None:
        client = AsyncClient(enforce_csrf_checks=True)
        base, en = f"/m/{town.slug}", {"accept-language": "en"}
        first = await client.get(f"{base}/probe/", headers=en)
        assert first.status_code == 200
        assert first.headers["Content-Language"] == "en"
        assert "Accept-Language" in first.headers["Vary"]
        token = first.cookies[settings.CSRF_COOKIE_NAME].value
        refused = await client.post(f"{base}/visit/", headers=en)
        assert refused.status_code == 403
        done = await client.post(f"{base}/visit/", {"csrfmiddlewaretoken": token}, headers=en)
        assert done.status_code == 200
        assert settings.SESSION_COOKIE_NAME in done.cookies
        assert "Cookie" in done.headers["Vary"]
        shown = json.loads((await client.get(f"{base}/probe/", headers=en)).content)
        assert shown["visits"] == 1 and shown["messages"] == ["visited"]
        again = json.loads((await client.get(f"{base}/probe/", headers=en)).content)
        assert again["visits"] == 1 and again["messages"] == []
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
        japanese = await client.get(f"{base}/probe/", headers=en)
        assert json.loads(japanese.content)["language"] == "ja"
        assert japanese.headers["Content-Language"] == "ja"

    async_to_sync(scenario)()


async def _get(app: Any, path: str) -> tuple[int, dict[bytes, bytes], Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"accept-language", b"en")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    end = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    headers = {name.lower(): value for name, value in start["headers"]}
    return start["status"], headers, json.loads(end["body"])


class _recording:
    """Record the function each SyncToAsync/AsyncToSync wraps, when made (`__init__`) or called
    (`__call__`), for the duration of the `with` block."""

    def __init__(self, into: list[Any], cls: type, method: str) -> None:
        self.into, self.cls, self.method = into, cls, method

    def __enter__(self) -> None:
        original = getattr(self.cls, self.method)
        self.original = original
        into = self.into
        if self.method == "__init__":

            def init(adapter: Any, func: Any, *args: Any, **kwargs: Any) -> None:
                into.append(func)
                original(adapter, func, *args, **kwargs)

            setattr(self.cls, "__init__", init)  # noqa: B010
        else:

            async def call(adapter: Any, *args: Any, **kwargs: Any) -> Any:
                into.append(adapter.func)
                result: Callable[..., Awaitable[Any]] = original
                return await result(adapter, *args, **kwargs)

            setattr(self.cls, "__call__", call)  # noqa: B010

    def __exit__(self, *exc: object) -> None:
        setattr(self.cls, self.method, self.original)


@pytest.fixture(autouse=True)
def _no_leftover_patch() -> Iterator[None]:
    init, call = SyncToAsync.__init__, SyncToAsync.__call__
    yield
    assert (SyncToAsync.__init__, SyncToAsync.__call__) == (init, call)
