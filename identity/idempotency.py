"""`Idempotency-Key` for the API's writes (draft-ietf-httpapi-idempotency-key-header).

A client that sends a write with a key and loses the answer sends it again with the same key and
gets the first answer (status and body, marked `Idempotent-Replayed: true`), not a second act and
not the 409 the act itself would now give. The same key with another request (method, path or
body) is 422 `idempotency_key_mismatch`; the same key while the first request's act is still
running is 409 `idempotency_in_progress` with `Retry-After`. Keys are scoped per account: one
person's key never reaches another's answer. The key is optional; without it a write works as
before.

The answer is stored in the act's own transaction (a committed act always has its answer, a
rolled-back one never does):
  - the API binds a `Claim` to the request (config/api.py);
  - the act's transaction first *takes* the claim (`claims_take`): a try-lock on the key
    (PostgreSQL advisory lock, released at commit or rollback: held means in progress) and a
    look-up of a committed answer (replayed, or a mismatch);
  - after the act, in the same transaction, the view's `render` turns the outcome into the
    answer, which is sealed and inserted (`claims_store`, one INSERT for a whole batch); the
    primary key (account, key) makes a second insert impossible;
  - sync services are marked `@stores_answer` (under their `transaction.atomic(durable=True)`)
    and views call them through `idempotent(render, service, ...)`; the micro-batched services
    (signing, casting) carry each item's claim and take and store the claims of a batch together.
Only a committed act (2xx) is stored: a refusal changes nothing, so its retry is judged again.

Secrecy: a stored answer may be a ballot's tracker or a debate vote. The row holds no account and
no path: its key is an HMAC (server secret) of (account, key), its answer is AES-GCM-sealed under
a second HMAC of the same, so only a request carrying the client's key (and the server's secret)
can read it, and its expiry is rounded to the hour so it does not date the act. Clients must use
random keys (a UUID): the key is what keeps the sealed answer secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from identity.errors import Conflict, DomainError, InvalidInput
from identity.models import IdempotentAnswer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# How long an answer is kept (and a retry answered from it); purged hourly by Celery beat.
TTL = timedelta(hours=24)
RETRY_AFTER_SECONDS = 1
# Visible ASCII but `"` and `\`, 16 to 255 characters (a UUID has 36); as the draft's RFC 8941
# string (in double quotes) or bare.
_KEY = re.compile(r"[!#-\[\]-~]{16,255}")
KEY_PATTERN = r'^(?:[!#-\[\]-~]{16,255}|"[!#-\[\]-~]{16,255}")$'
# Advisory locks in the two-integer form, under this class: apart from the single-bigint
# locks the audit sealer takes.
LOCK_CLASS = 0x1DE4
_DIGEST_SALT = "mebuku.idempotency.digest"
_SEAL_SALT = "mebuku.idempotency.seal"


class IdempotencyKeyInvalid(DomainError):
    status = 400
    code = "idempotency_key_invalid"


class IdempotencyKeyMismatch(InvalidInput):
    code = "idempotency_key_mismatch"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


def _mismatch() -> IdempotencyKeyMismatch:
    return IdempotencyKeyMismatch(
        _("This Idempotency-Key was used for another request; use a new key for a new request.")
    )


def _in_progress() -> IdempotencyInProgress:
    return IdempotencyInProgress(
        _("A request with this Idempotency-Key is still being processed; try again shortly.")
    )


@dataclass(frozen=True)
class Answer:
    """An answer as sent: status, content type and the exact bytes of the body."""

    status: int
    content_type: str
    body: bytes

    def response(self, *, replayed: bool) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status, content_type=self.content_type)
        if replayed:
            response[REPLAYED_HEADER] = "true"
        return response


class Replay(Exception):
    """A committed answer for this key and request: send it again."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("replay")
        self.answer = answer


@dataclass(eq=False)
class Claim:
    """One request's key: what its act must take before acting and store with its outcome."""

    key: str
    fingerprint: bytes
    # What the API sends for a view's return value (a schema, or `Status(code, schema)`).
    encode: Callable[[object], Answer]
    # The view's rendering of the act's outcome; set by the view before it acts.
    render: Callable[[Any], object] | None = None
    # The answer stored in the act's transaction (None until then, or if it rolled back).
    answer: Answer | None = None
    acted: bool = field(default=False)

    def digest(self, scope: int) -> bytes:
        return salted_hmac(_DIGEST_SALT, f"{scope}\n{self.key}", algorithm="sha256").digest()

    def _sealer(self, scope: int) -> AESGCM:
        return AESGCM(salted_hmac(_SEAL_SALT, f"{scope}\n{self.key}", algorithm="sha256").digest())

    def seal(self, scope: int, answer: Answer) -> bytes:
        plain = json.dumps(
            {
                "f": self.fingerprint.hex(),
                "s": answer.status,
                "t": answer.content_type,
                "b": base64.b64encode(answer.body).decode(),
            }
        ).encode()
        nonce = os.urandom(12)
        return nonce + self._sealer(scope).encrypt(nonce, plain, self.digest(scope))

    def verdict(self, scope: int, sealed: bytes) -> Exception:
        """The answer to a request whose key has a committed answer: replay it, or refuse a
        different request under the same key."""
        try:
            plain = self._sealer(scope).decrypt(sealed[:12], sealed[12:], self.digest(scope))
        except InvalidTag:  # sealed under another server secret: not this request's answer
            return _mismatch()
        stored = json.loads(plain)
        if stored["f"] != self.fingerprint.hex():
            return _mismatch()
        return Replay(Answer(stored["s"], stored["t"], base64.b64decode(stored["b"])))


def key_from_header(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.fullmatch(value):
        raise IdempotencyKeyInvalid(
            _(
                "The Idempotency-Key must be 16 to 255 visible ASCII characters without quotes "
                "or backslashes (use a random UUID)."
            )
        )
    return value


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    """The request a key stands for; the account is in the key's scope (`Claim.digest`)."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).digest()


# The current request's claim (set by the API around a write's view).
_current: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


def claim_bind(claim: Claim | None) -> Token[Claim | None]:
    return _current.set(claim)


def claim_unbind(token: Token[Claim | None]) -> None:
    _current.reset(token)


def claim_current(render: Callable[[Any], object]) -> Claim | None:
    """The current request's claim, now knowing how the view renders its act's outcome (for the
    micro-batched endpoints, whose items carry the claim to the batch)."""
    claim = _current.get()
    if claim is not None:
        claim.render = render
        # From here the claim travels with the item; a `@stores_answer` service that the batch
        # runs in this request's context must not take it a second time.
        claim.acted = True
    return claim


def _scope_digests(pairs: Sequence[tuple[int, Claim]]) -> list[bytes]:
    return [claim.digest(scope) for scope, claim in pairs]


def _committed(digests: Sequence[bytes], now: datetime) -> dict[bytes, bytes]:
    """The sealed answers of these digests that have not expired; an expired one not purged
    yet is deleted (in the act's transaction it then gives way to the new act)."""
    rows = IdempotentAnswer.objects.filter(digest__in=set(digests))
    found: dict[bytes, bytes] = {}
    expired: list[bytes] = []
    for digest, sealed, expires_at in rows.values_list("digest", "sealed", "expires_at"):
        if expires_at > now:
            found[bytes(digest)] = bytes(sealed)
        else:
            expired.append(bytes(digest))
    if expired and connection.in_atomic_block:
        IdempotentAnswer.objects.filter(digest__in=expired, expires_at__lte=now).delete()
    return found


def answers_lookup(pairs: Sequence[tuple[int, Claim]]) -> list[Exception | None]:
    """Outside the act: each (account, claim)'s committed answer (`Replay`) or mismatch, else
    None. Lets a retry be answered before any check of the act (which might now refuse it)."""
    if not pairs:
        return []
    digests = _scope_digests(pairs)
    found = _committed(digests, timezone.now())
    return [
        claim.verdict(scope, found[digest]) if digest in found else None
        for (scope, claim), digest in zip(pairs, digests, strict=True)
    ]


def _try_locks(digests: Sequence[bytes]) -> list[bool]:
    if connection.vendor != "postgresql":  # SQLite: one writer at a time anyway
        return [True] * len(digests)
    ids = [int.from_bytes(digest[:4], "big", signed=True) for digest in digests]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, t.id) FROM unnest(%s::integer[]) "
            "WITH ORDINALITY AS t(id, n) ORDER BY t.n",
            [LOCK_CLASS, ids],
        )
        return [bool(held) for (held,) in cursor.fetchall()]


def claims_take(pairs: Sequence[tuple[int, Claim]]) -> list[Exception | None]:
    """Inside the act's transaction, before it acts: for each (account, claim), None to go ahead
    or what to answer instead (`Replay`, mismatch, or in progress when another transaction holds
    the key, or the key comes twice in this call). Never waits."""
    assert connection.in_atomic_block, "claims are taken inside the act's transaction"
    if not pairs:
        return []
    for _scope, claim in pairs:
        claim.answer = None  # a batch that rolled back and is retried item by item
    digests = _scope_digests(pairs)
    held = _try_locks(digests)
    now = timezone.now()
    found = _committed(digests, now)
    verdicts: list[Exception | None] = []
    seen: set[bytes] = set()
    for (scope, claim), digest, locked in zip(pairs, digests, held, strict=True):
        if digest in found:
            verdicts.append(claim.verdict(scope, found[digest]))
        elif not locked or digest in seen:
            verdicts.append(_in_progress())
        else:
            verdicts.append(None)
        seen.add(digest)
    return verdicts


def expiry(now: datetime) -> datetime:
    """`now + TTL`, rounded up to the hour."""
    later = now + TTL
    return later.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def claims_store(items: Sequence[tuple[int, Claim, Any]]) -> None:
    """Inside the act's transaction, after it acted: render each (account, claim, outcome) as
    the view does, seal it, and insert all in one statement. Each claim then holds its answer,
    which the view sends (the first answer and its replays are the same bytes)."""
    assert connection.in_atomic_block, "answers are stored inside the act's transaction"
    rows: list[IdempotentAnswer] = []
    answers: list[tuple[Claim, Answer]] = []
    expires_at = expiry(timezone.now())
    for scope, claim, outcome in items:
        assert claim.render is not None, "the view renders before it acts"
        answer = claim.encode(claim.render(outcome))
        if not 200 <= answer.status < 300:
            continue
        rows.append(
            IdempotentAnswer(
                digest=claim.digest(scope),
                sealed=claim.seal(scope, answer),
                expires_at=expires_at,
            )
        )
        answers.append((claim, answer))
    if rows:
        IdempotentAnswer.objects.bulk_create(rows)
    for claim, answer in answers:
        claim.answer = answer


P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


def stores_answer(service: Callable[P, T]) -> Callable[P, T]:
    """For a write service that takes `actor=` and runs in its own transaction: placed under
    `@transaction.atomic(durable=True)`, it takes the current request's claim before the service
    acts and stores the answer after, in the same transaction. Without a claim (pages, tasks, a
    request without the header) it does nothing."""

    @wraps(service)
    def act(*args: P.args, **kwargs: P.kwargs) -> T:
        claim = _current.get()
        if claim is None or claim.render is None or claim.acted:
            return service(*args, **kwargs)
        claim.acted = True  # one act per request
        scope = kwargs["actor"].pk  # type: ignore[attr-defined]
        (refusal,) = claims_take([(scope, claim)])
        if refusal is not None:
            raise refusal
        outcome = service(*args, **kwargs)
        claims_store([(scope, claim, outcome)])
        return outcome

    return act


def idempotent(
    render: Callable[[T], R], service: Callable[..., T], /, **kwargs: Any
) -> R | HttpResponse:
    """A write view's act and answer: `service(**kwargs)` (a `@stores_answer` service), rendered
    by `render`; with a key, the answer stored with the act is sent, byte for byte what a replay
    sends."""
    claim = _current.get()
    if claim is not None:
        claim.render = render
    outcome = service(**kwargs)
    return answered(claim) or render(outcome)


def answered(claim: Claim | None) -> HttpResponse | None:
    """The answer stored with the act, if the request had a key and the act stored it."""
    if claim is None or claim.answer is None:
        return None
    return claim.answer.response(replayed=False)


def idempotency_purge() -> int:
    """Delete expired answers (Celery beat, hourly)."""
    deleted, _by_model = IdempotentAnswer.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
