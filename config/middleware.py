"""Natively async versions of Django's `MiddlewareMixin` middleware, for ASGI.

Under ASGI Django runs each hook of a `MiddlewareMixin` middleware through `sync_to_async`: a hop
to the request's own thread (created for it) and back, per hook, per request. Each class here is
Django's class (subclassed: same settings, same hooks, same checks by subclass) with an async
`__call__` that calls the class's own public hooks (`process_request`, `process_view`,
`process_response`) inline on the event loop, and runs a hook in a thread (`sync_to_async`, as
Django would) only for a request where that hook can block on I/O. Under WSGI and Django's test
client (sync mode) they are Django's classes unchanged. Why each is safe inline:

- `SecurityMiddleware`, `XFrameOptionsMiddleware`: compare settings, read request headers, set
  response headers. No I/O.
- `CSPMiddleware` (django-csp): installs a lazy nonce on the request, builds the header from
  settings on the response. No I/O.
- `CommonMiddleware`: user-agent regexes, the host, the APPEND_SLASH check (URL resolution, which
  Django's async handler itself runs on the loop), `Content-Length` of a body already in memory.
- `LocaleMiddleware`: the language cookie and Accept-Language, checked against LANGUAGES; each
  language's catalogue is read from disk once per process, which `__init__` does at start, so a
  request never reads a file.
- `AuthenticationMiddleware`: `process_request` only installs the lazy `request.user` and
  `request.auser`; the user is loaded later, by whoever asks (the view, in its own mode).
- `SessionMiddleware`: `process_request` makes an unloaded session store (no I/O until it is
  read); `process_response` loads and saves only when the session was modified (or
  SESSION_SAVE_EVERY_REQUEST) and is not empty: then it runs in a thread. Otherwise it only reads
  flags and sets cookie/Vary headers inline.
- `MessageMiddleware`: `process_request` makes the storage (no I/O). `process_response` touches
  the session only when messages were read or added and the session may still need loading from
  its store (it has a key and was not accessed yet): then it runs in a thread.
- `CsrfViewMiddleware`: with the CSRF secret in a cookie (the default; CSRF_USE_SESSIONS off)
  every hook works on headers and cookies; with CSRF_USE_SESSIONS a hook runs in a thread when the
  session may need loading. `process_view` reads the token from `request.POST`: a form body is
  already in memory (Django's ASGI handler read it), but a multipart body goes through the upload
  handlers, which may write files, so a multipart POST is checked in a thread.

`identity.middleware.MunicipalityMiddleware` and allauth's `AccountMiddleware` are natively async
themselves; `servestatic`'s middleware is async (see README, deployment).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from csp import middleware as csp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as message_middleware
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, locale, security
from django.utils import translation

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class NativeAsync:
    """Mixed in before a Django `MiddlewareMixin` class (see the module docstring)."""

    sync_capable = True
    async_capable = True
    async_mode: bool
    get_response: Any

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]  # MiddlewareMixin's
        sync_hook = getattr(self, "process_view", None)
        if self.async_mode and sync_hook is not None:
            # Django adapts a sync `process_view` with sync_to_async under ASGI; a coroutine
            # function it calls as it is.
            async def process_view(
                request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
            ) -> HttpResponseBase | None:
                if self.view_needs_thread(request):
                    return await sync_to_async(sync_hook)(request, view, args, kwargs)
                result: HttpResponseBase | None = sync_hook(request, view, args, kwargs)
                return result

            vars(self)["process_view"] = process_view  # Django takes `instance.process_view`

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.acall(request)
        return super().__call__(request)  # type: ignore[misc]  # MiddlewareMixin's

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        """MiddlewareMixin's `__acall__`, with each hook inline unless it needs a thread."""
        response = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            if self.request_needs_thread(request):
                response = await sync_to_async(process_request)(request)
            else:
                response = process_request(request)
        get_response: AsyncGetResponse = self.get_response
        response = response or await get_response(request)
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_needs_thread(request, response):
                response = await sync_to_async(process_response)(request, response)
            else:
                response = process_response(request, response)
        return response

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def view_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False


def session_may_load(request: HttpRequest) -> bool:
    """Whether reading `request.session` may still hit the session store: it has a key and has not
    been read yet (an accessed session is cached on the store object; one without a key is new)."""
    session = getattr(request, "session", None)
    return session is not None and session.session_key is not None and not session.accessed


class SecurityMiddleware(NativeAsync, security.SecurityMiddleware):
    pass


class CSPMiddleware(NativeAsync, csp.CSPMiddleware):
    pass


class SessionMiddleware(NativeAsync, sessions.SessionMiddleware):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        if session is None:
            return False
        return bool(session.modified or settings.SESSION_SAVE_EVERY_REQUEST) and not (
            session.is_empty()
        )


class LocaleMiddleware(NativeAsync, locale.LocaleMiddleware):
    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)
        for code, _name in settings.LANGUAGES:  # read each catalogue now, not in a request
            translation.check_for_language(code)
            with translation.override(code):
                pass


class CommonMiddleware(NativeAsync, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(NativeAsync, csrf.CsrfViewMiddleware):
    def request_needs_thread(self, request: HttpRequest) -> bool:
        return bool(settings.CSRF_USE_SESSIONS) and session_may_load(request)

    def view_needs_thread(self, request: HttpRequest) -> bool:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            return True
        return self.request_needs_thread(request)

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return self.request_needs_thread(request)


class AuthenticationMiddleware(NativeAsync, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(NativeAsync, message_middleware.MessageMiddleware):
    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = messages.get_messages(request)
        touched = getattr(storage, "used", False) or getattr(storage, "added_new", False)
        return bool(touched) and session_may_load(request)


class XFrameOptionsMiddleware(NativeAsync, clickjacking.XFrameOptionsMiddleware):
    pass
