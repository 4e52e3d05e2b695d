"""Shared helpers for the Idempotency-Key tests: requests through the real stack, and waiting
until a request holds its key (a first request still in flight)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client

from identity import idempotency
from identity.models import User
from tests.voting.conftest import office, scenario, trustee_keys  # noqa: F401  (voting's fixtures)


def new_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def replayed(self) -> bool:
        return self.headers.get(idempotency.REPLAYED_HEADER.lower()) == "true"


def call(
    method: str,
    path: str,
    token: str,
    key: str | None = None,
    body: dict[str, Any] | None = None,
    language: str = "en",
) -> Answer:
    """One request through Django's whole stack (the test client; an async view runs on this
    thread with its own event loop, so each thread is its own server)."""
    extra: dict[str, str] = {"HTTP_X_SESSION_TOKEN": token, "HTTP_ACCEPT_LANGUAGE": language}
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    response = Client().generic(
        method,
        path,
        data=json.dumps(body).encode() if body is not None else b"",
        content_type="application/json",
        **extra,
    )
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Answer(response.status_code, response.content, headers)


def digest(user: User, key: str) -> bytes:
    """The stored answer's primary key for this account and key."""
    return idempotency.Claim(
        key, b"", encode=lambda _result: idempotency.Answer(0, "", b"")
    ).digest(user.pk)


def key_held() -> bool:
    """Whether some transaction holds an Idempotency-Key's advisory lock (a request in flight)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objsubid = 2 AND granted",
            [idempotency.LOCK_CLASS],
        )
        (held,) = cursor.fetchone()
    return bool(held)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"never: {what}")


def in_thread(work: Callable[[], Answer]) -> tuple[threading.Thread, list[Answer]]:
    """Run one request on a thread of its own (its own database connection)."""
    out: list[Answer] = []

    def target() -> None:
        try:
            out.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out
