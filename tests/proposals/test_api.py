from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from identity.models import AuditEntry, Municipality, Role, User
from proposals.models import Proposal, Signature
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _json(response: Any) -> Any:
    return json.loads(response.content)


def test_sign_status_codes(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    url = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    signer = _client(verified(town))
    first = signer.post(url)
    assert first.status_code == 201, first.content
    assert _json(first) == {"signature_count": 1, "threshold": 10, "crossed_threshold": False}
    again = signer.post(url)
    assert again.status_code == 409 and _json(again)["code"] == "already_signed"
    unverified = _client(UserFactory()).post(url)
    assert unverified.status_code == 403 and _json(unverified)["code"] == "not_verified"
    assert _client().post(url).status_code == 401
    Proposal.objects.filter(pk=proposal.pk).update(
        collection_opens_at=timezone.now() - timedelta(days=2),
        collection_closes_at=timezone.now() - timedelta(seconds=1),
    )
    closed = _client(verified(town)).post(url)
    assert closed.status_code == 410 and _json(closed)["code"] == "collection_closed"
    assert Signature.objects.count() == 1


def test_file_open_and_read(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town)
    author = verified(town)
    client = _client(author)
    created = client.post(
        "/api/v1/municipalities/maebashi/proposals",
        data=json.dumps({"type_id": kind.pk, "title": "公園", "summary": "s", "body": "b"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    proposal_id = _json(created)["id"]
    assert (
        _client().get(f"/api/v1/municipalities/maebashi/proposals/{proposal_id}").status_code == 404
    )
    opened = client.post(f"/api/v1/municipalities/maebashi/proposals/{proposal_id}/open")
    assert opened.status_code == 200 and _json(opened)["status"] == "collecting"
    detail = _json(_client().get(f"/api/v1/municipalities/maebashi/proposals/{proposal_id}"))
    assert [e["status"] for e in detail["timeline"]] == ["draft", "collecting"]
    listed = _json(_client().get("/api/v1/municipalities/maebashi/proposals", {"q": "公園"}))
    assert listed["count"] == 1 and listed["results"][0]["id"] == proposal_id
    bad = _client().get("/api/v1/municipalities/maebashi/proposals", {"sort": "evil"})
    assert bad.status_code == 422 and _json(bad)["code"] == "invalid"
    types = _json(_client().get("/api/v1/municipalities/maebashi/proposal-types"))
    assert types[0]["threshold"] == 10 and types[0]["channels"] == ["online", "counter"]


def test_council_answer_through_the_api(town: Municipality) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=1),
        author=author,
        collecting=True,
    )
    _client(verified(town)).post(
        f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    )
    from proposals import services

    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    council = staff(town, Role.COUNCIL)
    url = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/answer"
    short = _client(council).post(
        url,
        data=json.dumps({"decision": "adopted", "reasons": "ok"}),
        content_type="application/json",
    )
    assert short.status_code == 422 and _json(short)["code"] == "reasons"
    resident = _client(author).post(
        url,
        data=json.dumps({"decision": "adopted", "reasons": "x" * 30}),
        content_type="application/json",
    )
    assert resident.status_code == 403
    answered = _client(council).post(
        url,
        data=json.dumps({"decision": "adopted", "reasons": "全会一致で採択しました。" * 3}),
        content_type="application/json",
    )
    assert answered.status_code == 201
    assert (
        _json(_client().get("/api/v1/municipalities/maebashi/answers"))[0]["decision"] == "adopted"
    )


def _csv(response: Any) -> list[list[str]]:
    raw = b"".join(response.streaming_content).decode()
    assert raw.startswith("\ufeff")
    return list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))


def test_public_csv_exports(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    _client(verified(town)).post(
        f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    )
    rows = _csv(_client().get("/m/maebashi/proposals/proposals.csv"))
    from proposals.exports import DAILY_COLUMNS, PROPOSAL_COLUMNS

    assert tuple(rows[0]) == PROPOSAL_COLUMNS
    assert rows[1][0] == str(proposal.pk) and rows[1][8] == "1" and rows[1][9] == "10"
    assert "+09:00" in rows[1][6]
    daily = _csv(_client().get(f"/m/maebashi/proposals/{proposal.pk}/daily.csv"))
    assert tuple(daily[0]) == DAILY_COLUMNS and daily[-1][2] == "1"


def test_signatory_list_is_for_the_election_office_and_audited(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    _client(signer).post(f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature")
    url = f"/m/maebashi/proposals/{proposal.pk}/signatories.csv"
    assert _client(staff(town, Role.COUNCIL)).get(url).status_code == 403
    assert _client(signer).get(url).status_code == 403
    office = staff(town, Role.ELECTION_OFFICE)
    rows = _csv(_client(office).get(url))
    assert rows[1][3] == f"住民 {signer.pk}" and rows[1][1] == "online"
    assert (
        AuditEntry.objects.filter(action="proposal.signatory_list_download", actor=office).count()
        == 1
    )
    public = b"".join(
        _client().get("/m/maebashi/proposals/proposals.csv").streaming_content
    ).decode()
    assert f"住民 {signer.pk}" not in public


def test_sign_with_a_session_token_query_count(
    town: Municipality, django_assert_num_queries: Any
) -> None:
    """The API's hot path (a micro-batch of one): the token is one session read (allauth's
    default strategy made it two), then the user, then the group commit's statements (the
    proposal, eligibility, who of the batch signed already, the insert, the audit entry, the
    counter, the outbox message); the municipality comes from the per-process cache.
    (SAVEPOINT/RELEASE stand for BEGIN/COMMIT inside the test's transaction.)"""
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    url = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    browser = _client(verified(town))
    token = browser.session.session_key
    api = Client()
    api.get("/api/v1/municipalities/maebashi")  # the municipality is cached per process
    with django_assert_num_queries(11) as captured:
        response = api.post(url, HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 201, response.content
    tables = [
        re.search(r'(?:FROM|INTO|UPDATE) "?(\w+)', q["sql"])[1]  # type: ignore[index]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert tables == [
        "django_session",
        "identity_user",
        "proposals_proposal",
        "identity_verification",
        "proposals_signature",
        "proposals_signature",
        "identity_auditentry",
        "proposals_proposal",
        "identity_outboxmessage",
    ]
    assert api.post(url, HTTP_X_SESSION_TOKEN="forged").status_code == 401


def test_a_page_past_the_last_is_404_even_a_huge_one(town: Municipality) -> None:
    ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    url = "/api/v1/municipalities/maebashi/proposals"
    assert _json(_client().get(url, {"page": 1}))["count"] == 1
    for page in (2, 10**15):  # the second is past what PostgreSQL takes as an OFFSET
        past = _client().get(url, {"page": page})
        assert past.status_code == 404, past.content
        assert _json(past)["code"] == "no_such_page"
    empty = _client().get(url, {"page": 1, "q": "nothing matches this"})
    assert empty.status_code == 200 and _json(empty)["results"] == []


def test_withdrawing_without_a_signature_is_404_not_signed(town: Municipality) -> None:
    """docs/decisions.md: the signature to withdraw does not exist (404); 409 is kept for
    `not_withdrawable`, a rule of the proposal's kind."""
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town),
        author=verified(town),
        collecting=True,
    )
    url = f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature"
    signer = _client(verified(town))
    assert signer.post(url).status_code == 201
    assert signer.delete(url).status_code == 200
    twice = signer.delete(url)
    assert twice.status_code == 404 and _json(twice)["code"] == "not_signed"
    never = _client(verified(town)).delete(url)
    assert never.status_code == 404 and _json(never)["code"] == "not_signed"
    schema = _json(_client().get("/api/v1/openapi.json"))
    withdraw = schema["paths"]["/api/v1/municipalities/{slug}/proposals/{proposal_id}/signature"]
    assert {"404", "409", "410"} <= set(withdraw["delete"]["responses"])
    assert "`not_signed`" in withdraw["delete"]["description"]
