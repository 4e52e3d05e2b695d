"""Calling the project's real ASGI application (config/asgi.py) in-process, as uvicorn would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from asgiref.testing import ApplicationCommunicator


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


async def asgi_call(
    path: str,
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Reply:
    from config.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=30)
    parts = []
    while True:
        message = await communicator.receive_output(timeout=30)
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(parts)
    # Let the application finish as a server would (request_finished gives the request's
    # database connection back); a dropped communicator would cancel it instead.
    await communicator.wait(timeout=30)
    names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    is_json = names.get("content-type", "").startswith("application/json")
    return Reply(start["status"], names, json.loads(raw) if is_json and raw else raw)


def api_headers(token: str | None, language: str = "en") -> list[tuple[bytes, bytes]]:
    headers = [(b"accept-language", language.encode()), (b"content-type", b"application/json")]
    if token is not None:
        headers.append((b"x-session-token", token.encode()))
    return headers
