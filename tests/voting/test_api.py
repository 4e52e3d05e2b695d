"""The elections API: status codes, bodies, the OpenAPI schema, and query counts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client

from identity.models import User
from tests.factories import ElectionFactory, session_token
from tests.voting.conftest import NO, YES, Scenario, randomness_of
from voting.election import encrypt_ballot, verify_record
from voting.election.rng import TestStream
from voting.models import Ballot

pytestmark = pytest.mark.django_db


def _client(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _json(response: Any) -> Any:
    return json.loads(response.content)


def _base(s: Scenario) -> str:
    return f"/api/v1/municipalities/maebashi/elections/{s.election.pk}"


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_list_detail_and_eligibility(scenario: Scenario) -> None:
    s = scenario
    listed = _client().get("/api/v1/municipalities/maebashi/elections")
    assert listed.status_code == 200
    [item] = _json(listed)
    assert item["phase"] == "open" and item["election_hash"] == s.reload().election_hash
    assert [q["id"] for q in item["questions"]] == ["q1", "q2"]
    voter = _client(s.voters[0]).get(f"{_base(s)}/eligibility")
    assert _json(voter)["code"] == "eligible" and _json(voter)["can_cast_now"] is True
    teen = _json(_client(s.others["teen"]).get(f"{_base(s)}/eligibility"))
    assert (teen["allowed"], teen["code"]) == (False, "under_age")
    assert "18" in teen["message"] and teen["message"] in (
        "This is for people aged 18 or older.",
        "18歳以上の方が対象です。",
    )
    assert _client().get(f"{_base(s)}/eligibility").status_code == 401
    mine = _json(_client(s.voters[0]).get("/api/v1/municipalities/maebashi/my-elections"))
    assert [m["code"] for m in mine] == ["eligible"]
    context = _json(_client(s.voters[0]).get(f"{_base(s)}/ballot-context"))
    assert context["alias"] == s.alias(s.voters[0])
    refused = _client(s.others["outsider"]).get(f"{_base(s)}/ballot-context")
    assert refused.status_code == 403 and _json(refused)["code"] == "not_on_roll"


def test_draft_is_not_public(town: Any, office: User, trustee_keys: Any) -> None:
    from tests.factories import UserFactory

    election = ElectionFactory(
        municipality=town,
        created_by=office,
        trustees=[UserFactory() for _ in range(2)],
        keys=trustee_keys,
    )
    url = f"/api/v1/municipalities/maebashi/elections/{election.pk}"
    assert _client().get(url).status_code == 404
    assert _json(_client().get("/api/v1/municipalities/maebashi/elections")) == []


def test_cast_status_codes(scenario: Scenario) -> None:
    s = scenario
    url = f"{_base(s)}/ballots"
    voter = _client(s.voters[0])
    first = _post(voter, url, s.ballot(s.voters[0], YES))
    assert first.status_code == 201, first.content
    body = _json(first)
    assert len(body["tracker"]) == 64 and body["replaced_previous"] is False
    again = _post(voter, url, s.ballot(s.voters[0], NO))
    assert again.status_code == 201 and _json(again)["replaced_previous"] is True
    # 403 with the reason code.
    teen = _post(_client(s.others["teen"]), url, s.ballot(s.voters[0], YES))
    assert teen.status_code == 403 and _json(teen)["code"] == "under_age"
    # 401 without a session.
    assert _post(_client(), url, s.ballot(s.voters[0], YES)).status_code == 401
    # 422 with the failing proof.
    bad = s.ballot(s.voters[1], YES)
    bad["answers"][0]["overall_proof"][0]["r"] = "2"
    rejected = _post(_client(s.voters[1]), url, bad)
    assert rejected.status_code == 422
    assert _json(rejected)["code"] == "ballot_invalid"
    assert any("check 5" in f and "overall proof" in f for f in _json(rejected)["failures"])
    # 422 for a body that is no ballot at all.
    assert _post(_client(s.voters[1]), url, {"alias": 3}).status_code == 422
    # 422 for someone else's alias.
    stolen = _post(_client(s.voters[1]), url, s.ballot(s.voters[0], YES))
    assert stolen.status_code == 422 and _json(stolen)["code"] == "alias_mismatch"
    # 409 after close.
    s.close_and_decrypt()
    closed = _post(_client(s.voters[2]), url, s.ballot(s.voters[2], YES))
    assert closed.status_code == 409 and _json(closed)["code"] == "election_closed"
    assert Ballot.objects.count() == 2


def test_audit_endpoint(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[0]
    ballot = encrypt_ballot(s.ctx, s.alias(voter), NO, TestStream("api-audit"))
    randomness = randomness_of(s.ctx, NO, TestStream("api-audit"))
    audited = _post(
        _client(voter), f"{_base(s)}/audits", {"ballot": ballot, "randomness": randomness}
    )
    assert audited.status_code == 201, audited.content
    assert _json(audited)["selections"] == {"q1": ["no"], "q2": []}
    cast = _post(_client(voter), f"{_base(s)}/ballots", ballot)
    assert cast.status_code == 409 and _json(cast)["code"] == "ballot_audited"
    public = _json(_client().get(f"{_base(s)}/audited"))
    assert [a["tracker"] for a in public] == [_json(audited)["tracker"]]
    assert public[0]["randomness"] == randomness


def test_board_results_and_record(scenario: Scenario) -> None:
    s = scenario
    receipts = [s.cast(s.voters[0], YES), s.cast(s.voters[0], NO), s.cast(s.voters[1], YES)]
    board = _json(_client().get(f"{_base(s)}/board"))
    assert board["count"] == 3
    assert [(r["tracker"], r["superseded"]) for r in board["results"]] == [
        (receipts[0].tracker, True),
        (receipts[1].tracker, False),
        (receipts[2].tracker, False),
    ]
    found = _json(_client().get(f"{_base(s)}/board", {"tracker": receipts[2].tracker[:8]}))
    assert [r["tracker"] for r in found["results"]] == [receipts[2].tracker]
    not_yet = _client().get(f"{_base(s)}/results")
    assert not_yet.status_code == 404 and _json(not_yet)["code"] == "not_published"
    assert _client().get(f"{_base(s)}/record.json").status_code == 404
    s.close_and_decrypt()
    results = _json(_client().get(f"{_base(s)}/results"))
    assert results["ballots_counted"] == 2 and results["roll_size"] == 3
    assert results["turnout"] == pytest.approx(2 / 3)
    assert [o["count"] for o in results["questions"][0]["options"]] == [1, 1]
    downloaded = _client().get(f"{_base(s)}/record.json")
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == results["record_sha256"]
    assert verify_record(json.loads(downloaded.content)).ok


def test_openapi_lists_the_election_endpoints() -> None:
    schema = _json(_client().get("/api/v1/openapi.json"))
    paths = schema["paths"]
    base = "/api/v1/municipalities/{slug}/elections"
    for path in (
        base,
        f"{base}/{{election_id}}/eligibility",
        f"{base}/{{election_id}}/ballots",
        f"{base}/{{election_id}}/audits",
        f"{base}/{{election_id}}/board",
        f"{base}/{{election_id}}/results",
        f"{base}/{{election_id}}/record.json",
    ):
        assert path in paths, path
    cast = paths[f"{base}/{{election_id}}/ballots"]["post"]["responses"]
    assert {"201", "403", "409", "422"} <= set(cast)


def test_board_query_count(scenario: Scenario, django_assert_num_queries: Any) -> None:
    s = scenario
    for voter in s.voters:
        s.cast(voter, YES)
    with django_assert_num_queries(4):
        response = _client().get(f"{_base(s)}/board")
    assert _json(response)["count"] == 3


def test_cast_query_count(scenario: Scenario, django_assert_num_queries: Any) -> None:
    """The hot path: session and user; municipality, the roll entry joined to its election
    (prepare); then the roll entry lock, the election share lock with the clock, supersede,
    insert, outbox message (the receipt); no audit entry: the board is the record of ballots."""
    s = scenario
    s.cast(s.voters[1], YES)  # the election's context is now cached in this process
    ballot = s.ballot(s.voters[0], YES)
    client = _client(s.voters[0])
    # 9 statements plus the test transaction's savepoint pair around the durable atomic.
    with django_assert_num_queries(11):
        response = _post(client, f"{_base(s)}/ballots", ballot)
    assert response.status_code == 201


def test_cast_with_a_session_token_query_count(
    scenario: Scenario, django_assert_num_queries: Any
) -> None:
    """An app's cast (micro-batched steps of one): the token's session and user; the roll entry
    joined to its election; then the store as above."""
    s = scenario
    s.cast(s.voters[1], YES)
    ballot = s.ballot(s.voters[0], YES)
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_X_SESSION_TOKEN=session_token(s.voters[0]))
    client.get("/api/v1/municipalities/maebashi")  # the municipality is cached per process
    with django_assert_num_queries(10):
        response = _post(client, f"{_base(s)}/ballots", ballot)
    assert response.status_code == 201


def test_every_422_of_casting_has_the_documented_shape(scenario: Scenario) -> None:
    """`invalid` (the body is no ballot) carries `errors`, `ballot_invalid` its `failures`; the
    schema requires neither, and text PostgreSQL cannot store is refused, not a 500."""
    s = scenario
    url = f"{_base(s)}/ballots"
    voter = _client(s.voters[1])
    no_ballot = _post(voter, url, {"alias": 3})
    assert no_ballot.status_code == 422
    assert _json(no_ballot)["code"] == "invalid" and _json(no_ballot)["errors"]
    nul = _post(voter, url, {**s.ballot(s.voters[1], YES), "alias": "a\x00"})
    assert nul.status_code == 422 and _json(nul)["errors"][0]["type"] == "string_nul"
    audit = _post(voter, f"{_base(s)}/audits", {"ballot": {"alias": 3}, "randomness": []})
    assert audit.status_code == 422 and _json(audit)["code"] == "invalid"
    schema = _json(_client().get("/api/v1/openapi.json"))
    rejected = schema["components"]["schemas"]["RejectedOut"]
    assert set(rejected["required"]) == {"code", "message"}
    assert {"errors", "failures"} <= set(rejected["properties"])
    assert Ballot.objects.count() == 0
