"""The Idempotency-Key contract shared by every write: the header in the OpenAPI schema, a
malformed key refused before any act, the quoted (RFC 8941) form, expiry and the hourly purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.api import api
from identity import idempotency
from identity.models import IdempotentAnswer, Municipality
from identity.tasks import idempotency_purge_task
from proposals.models import Proposal, Signature
from tests.factories import ProposalFactory, ProposalTypeFactory, session_token, verified
from tests.idempotency.conftest import call, digest, new_key

WRITES = {"post", "put", "patch", "delete"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = api.get_openapi_schema()["paths"]
    return [(path, method, op) for path, ops in paths.items() for method, op in ops.items()]


def test_every_write_documents_the_header_and_its_answers() -> None:
    writes = [(p, m, op) for p, m, op in _operations() if m in WRITES]
    assert len(writes) >= 15
    for path, method, operation in writes:
        (header,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["required"] is False, (path, method)
        assert header["schema"]["pattern"] == idempotency.KEY_PATTERN
        responses = {int(status): response for status, response in operation["responses"].items()}
        assert {400, 409, 422} <= responses.keys(), (path, method)
        assert "Retry-After" in responses[409]["headers"]
        for status, response in responses.items():
            if 200 <= status < 300:
                assert idempotency.REPLAYED_HEADER in response["headers"], (path, method)
    for path, method, operation in _operations():
        if method not in WRITES:
            names = [p["name"] for p in operation.get("parameters", [])]
            assert "Idempotency-Key" not in names, (path, method)


def test_the_key_format() -> None:
    uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324"
    assert idempotency.key_from_header(uuid) == uuid
    assert idempotency.key_from_header(f'"{uuid}"') == uuid  # RFC 8941 string, as in the draft
    for bad in ("short", "x" * 256, "with a space in it!", 'quote"inside-the-key', "ключ" * 5):
        with pytest.raises(idempotency.IdempotencyKeyInvalid):
            idempotency.key_from_header(bad)


def test_answers_expire_on_the_hour_after_a_day() -> None:
    at = datetime(2026, 12, 2, 12, 34, 56, 789, tzinfo=UTC)
    assert idempotency.expiry(at) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


@pytest.fixture
def proposal(town: Municipality) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=5, signatures_withdrawable=True)
    return ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)


def _sign(proposal: Proposal, token: str, key: str | None, method: str = "POST") -> Any:
    path = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    return call(method, path, token, key)


@pytest.mark.django_db(transaction=True)
def test_a_malformed_key_is_refused_before_anything_happens(
    town: Municipality, proposal: Proposal
) -> None:
    token = session_token(verified(town))
    refused = _sign(proposal, token, "too-short")
    assert (refused.status, refused.json["code"]) == (400, "idempotency_key_invalid")
    assert not Signature.objects.exists() and not IdempotentAnswer.objects.exists()
    path = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    japanese = call("POST", path, token, "x", language="ja")
    assert japanese.json["code"] == "idempotency_key_invalid"
    assert japanese.json["message"] != refused.json["message"]


@pytest.mark.django_db(transaction=True)
def test_the_quoted_and_the_bare_key_are_one_key(town: Municipality, proposal: Proposal) -> None:
    token, key = session_token(verified(town)), new_key()
    first = _sign(proposal, token, f'"{key}"')
    retry = _sign(proposal, token, key)
    assert (first.status, retry.status, retry.body, retry.replayed) == (201, 201, first.body, True)


@pytest.mark.django_db(transaction=True)
def test_withdrawing_twice_with_one_key_answers_the_first_withdrawal(
    town: Municipality, proposal: Proposal
) -> None:
    """DELETE is a write too: the retry gets the first answer, not 404 `not_signed`."""
    token, key = session_token(verified(town)), new_key()
    assert _sign(proposal, token, None).status == 201
    first = _sign(proposal, token, key, "DELETE")
    assert first.status == 200 and first.json["signature_count"] == 0
    retry = _sign(proposal, token, key, "DELETE")
    assert (retry.status, retry.body, retry.replayed) == (200, first.body, True)
    assert _sign(proposal, token, new_key(), "DELETE").json["code"] == "not_signed"


@pytest.mark.django_db(transaction=True)
def test_an_expired_answer_is_not_replayed_and_is_purged(
    town: Municipality, proposal: Proposal
) -> None:
    signer = verified(town)
    token, key = session_token(signer), new_key()
    assert _sign(proposal, token, key).status == 201
    assert _sign(proposal, session_token(verified(town)), new_key()).status == 201
    mine = IdempotentAnswer.objects.filter(digest=digest(signer, key))
    mine.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = _sign(proposal, token, key)  # judged again: the signature exists
    assert (late.status, late.json["code"]) == (409, "already_signed")
    assert not mine.exists() and IdempotentAnswer.objects.count() == 1  # gave way to the act
    assert idempotency_purge_task() == 0
    IdempotentAnswer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_purge_task() == 1
    assert not IdempotentAnswer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_ignores_the_header(town: Municipality, proposal: Proposal) -> None:
    token = session_token(verified(town))
    read = call("GET", f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}", token, "bad")
    assert read.status == 200 and not IdempotentAnswer.objects.exists()


def test_every_write_view_acts_through_the_key() -> None:
    """A write view stores its answer only through `idempotent(...)` (sync) or
    `claim_current(...)` (micro-batched): a new write that calls its service directly fails."""
    import inspect

    from debates.api import router as debates
    from identity.api import router as identity
    from proposals.api import router as proposals
    from voting.api import router as voting

    seen = 0
    for router in (identity, proposals, debates, voting):
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if not set(operation.methods) & idempotency.METHODS:
                    continue
                source = inspect.getsource(inspect.unwrap(operation.view_func))
                through = ("idempotent(", "claim_current(", "return _react(")  # _react: idempotent
                assert any(word in source for word in through), operation.view_func.__name__
                seen += 1
    assert seen >= 15
