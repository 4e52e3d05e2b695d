"""Debates in the JSON API: reading, taking part, error codes and the OpenAPI schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from debates.models import Contribution, Debate, Report, Statement, Vote
from debates.services import comment_add, statement_create_from_contributions, summary_publish
from debates.services.opinions import opinions_compute
from identity.models import Municipality, Role, User
from tests.debates.conftest import two_camps
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    UserFactory,
    staff,
    verified,
)

BASE = "/api/v1/municipalities/maebashi/debates"


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


def _client(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def _json(response: Any) -> Any:
    return json.loads(response.content)


def _post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def test_list_and_detail(town: Municipality, moderator: User) -> None:
    diverging = DebateFactory(
        municipality=town, created_by=moderator, phases=("diverge", "converge")
    )
    converging = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    kamakura = MunicipalityFactory(slug="kamakura")
    DebateFactory(
        municipality=kamakura, created_by=staff(kamakura, Role.MODERATOR), phases=("diverge",)
    )
    Contribution.objects.create(debate=diverging, author=moderator, body="案")
    listed = _json(_client().get(BASE))
    assert [d["id"] for d in listed] == [converging.pk, diverging.pk]
    assert listed[1]["phase"]["kind"] == "diverge" and listed[1]["contribution_count"] == 1
    detail = _json(_client().get(f"{BASE}/{diverging.pk}"))
    assert detail["question"] == diverging.question and len(detail["phases"]) == 2
    assert detail["phase"]["kind"] == "diverge" and detail["conclusion"] is None
    phases = _json(_client().get(f"{BASE}/{diverging.pk}/phases"))
    assert [p["kind"] for p in phases] == ["diverge", "converge"]
    missing = _client().get(f"{BASE}/{diverging.pk + 100}")
    assert missing.status_code == 404 and _json(missing)["code"] == "not_found"
    assert _client().get("/api/v1/municipalities/nowhere/debates").status_code == 404


def test_contribute_comment_react_and_read_back(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    resident = verified(town, display_name="前橋 花子")
    client = _client(resident)
    made = _post(client, f"{BASE}/{debate.pk}/contributions", {"title": "屋根", "body": "屋根を"})
    assert made.status_code == 201, made.content
    cid = _json(made)["id"]
    assert _json(made)["author"] == "前橋 花子"
    commented = _post(client, f"{BASE}/{debate.pk}/contributions/{cid}/comments", {"body": "賛成"})
    assert commented.status_code == 201
    reply = _post(
        client,
        f"{BASE}/{debate.pk}/contributions/{cid}/comments",
        {"body": "同じく", "parent_id": _json(commented)["id"]},
    )
    assert reply.status_code == 201
    too_deep = _post(
        client,
        f"{BASE}/{debate.pk}/contributions/{cid}/comments",
        {"body": "さらに", "parent_id": _json(reply)["id"]},
    )
    assert too_deep.status_code == 422 and _json(too_deep)["code"] == "too_deep"
    reacted = _post(client, f"{BASE}/{debate.pk}/contributions/{cid}/reaction")
    assert _json(reacted) == {"changed": True, "reaction_count": 1}
    assert (
        _json(_post(client, f"{BASE}/{debate.pk}/contributions/{cid}/reaction"))["changed"] is False
    )
    page = _json(_client().get(f"{BASE}/{debate.pk}/contributions?sort=discussed"))
    assert page["count"] == 1 and page["results"][0]["comment_count"] == 2
    assert page["results"][0]["reaction_count"] == 1
    comments = _json(_client().get(f"{BASE}/{debate.pk}/contributions/{cid}/comments"))
    assert [c["body"] for c in comments] == ["賛成"] and comments[0]["replies"][0][
        "body"
    ] == "同じく"
    bad_sort = _client().get(f"{BASE}/{debate.pk}/contributions?sort=best")
    assert bad_sort.status_code == 422 and _json(bad_sort)["code"] == "invalid"
    undone = client.delete(f"{BASE}/{debate.pk}/contributions/{cid}/reaction")
    assert _json(undone) == {"changed": True, "reaction_count": 0}


def test_taking_part_errors(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge", "converge"))
    url = f"{BASE}/{debate.pk}/contributions"
    anonymous = _post(_client(), url, {"body": "x"})
    assert anonymous.status_code == 401 and _json(anonymous)["code"] == "not_signed_in"
    unverified = _post(_client(UserFactory()), url, {"body": "x"})
    assert unverified.status_code == 403 and _json(unverified)["code"] == "not_verified"
    assert _json(unverified)["message"]  # a sentence for people
    resident = _client(verified(town))
    empty = _post(resident, url, {"body": "  "})
    assert empty.status_code == 422 and _json(empty)["code"] == "empty"
    missing = _post(resident, url, {})
    assert missing.status_code == 422 and _json(missing)["code"] == "invalid"
    proposed = _post(resident, f"{BASE}/{debate.pk}/statements", {"text": "屋根を"})
    assert proposed.status_code == 403 and _json(proposed)["code"] == "action_not_in_phase"
    assert Contribution.objects.count() == 0 and Statement.objects.count() == 0


def test_vote_and_statements(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    statement = statement_create_from_contributions(
        actor=moderator, debate_id=debate.pk, text="屋根を"
    )
    resident = verified(town)
    client = _client(resident)
    url = f"{BASE}/{debate.pk}/statements/{statement.pk}/vote"
    first = _post(client, url, {"value": 1})
    assert _json(first) == {
        "statement_id": statement.pk,
        "value": 1,
        "previous": None,
        "changed": True,
    }
    changed = _post(client, url, {"value": -1})
    assert _json(changed)["previous"] == 1 and _json(changed)["value"] == -1
    invalid = _post(client, url, {"value": 2})
    assert invalid.status_code == 422 and _json(invalid)["code"] == "invalid"
    assert _post(_client(UserFactory()), url, {"value": 1}).status_code == 403
    other = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    wrong_debate = _post(client, f"{BASE}/{other.pk}/statements/{statement.pk}/vote", {"value": 1})
    assert wrong_debate.status_code == 404
    assert Vote.objects.get().value == -1
    listed = _json(client.get(f"{BASE}/{debate.pk}/statements"))
    assert listed[0]["disagrees"] == 1 and listed[0]["my_vote"] == -1
    assert _json(_client().get(f"{BASE}/{debate.pk}/statements"))[0]["my_vote"] is None
    assert _json(client.get(f"{BASE}/{debate.pk}/statements/next")) == []
    assert [s["id"] for s in _json(_client().get(f"{BASE}/{debate.pk}/statements/next"))] == [
        statement.pk
    ]
    proposed = _post(client, f"{BASE}/{debate.pk}/statements", {"text": "ベンチを"})
    assert proposed.status_code == 201 and _json(proposed)["status"] == "pending"
    again = _post(client, f"{BASE}/{debate.pk}/statements", {"text": "ベンチを"})
    assert again.status_code == 409 and _json(again)["code"] == "duplicate_statement"
    assert len(_json(_client().get(f"{BASE}/{debate.pk}/statements"))) == 1  # pending not public


def test_report_content(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    author = verified(town)
    contribution = Contribution.objects.create(debate=debate, author=author, body="暴言")
    comment = comment_add(actor=author, contribution_id=contribution.pk, body="暴言2")
    client = _client(verified(town))
    url = f"{BASE}/{debate.pk}/reports"
    filed = _post(client, url, {"contribution_id": contribution.pk, "reason": "攻撃的"})
    assert filed.status_code == 201
    twice = _post(client, url, {"contribution_id": contribution.pk, "reason": "攻撃的"})
    assert twice.status_code == 409 and _json(twice)["code"] == "already_reported"
    assert _post(client, url, {"comment_id": comment.pk, "reason": "攻撃的"}).status_code == 201
    both = _post(client, url, {"reason": "?"})
    assert both.status_code == 422 and _json(both)["code"] == "one_target_required"
    elsewhere = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    wrong = _post(
        client, f"{BASE}/{elsewhere.pk}/reports", {"comment_id": comment.pk, "reason": "x"}
    )
    assert wrong.status_code == 404
    assert Report.objects.count() == 2


def test_report_of_opinions(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    none_yet = _client().get(f"{BASE}/{debate.pk}/report")
    assert none_yet.status_code == 404 and _json(none_yet)["code"] == "no_report"
    statements = two_camps(debate, moderator)
    opinions_compute(debate.pk)
    report = _json(_client().get(f"{BASE}/{debate.pk}/report"))
    assert report["group_count"] == 2 and [g["group"] for g in report["groups"]] == [1, 2]
    assert report["consensus"][0] == statements[10].pk
    assert len(report["points"]) == 20 and {p["group"] for p in report["points"]} == {1, 2}
    listed = _json(_client().get(f"{BASE}/{debate.pk}/statements"))
    assert [g["group"] for g in listed[10]["groups"]] == [1, 2]


def test_detail_shows_the_conclusion(town: Municipality, moderator: User) -> None:
    debate: Debate = DebateFactory(municipality=town, created_by=moderator, phases=("conclude",))
    summary_publish(actor=moderator, debate_id=debate.pk, summary="要約", outcome="結論")
    detail = _json(_client().get(f"{BASE}/{debate.pk}"))
    assert detail["conclusion"]["outcome"] == "結論" and detail["conclusion"]["proposal_id"] is None


def test_openapi_lists_the_debate_endpoints(db: None) -> None:
    schema = _json(Client().get("/api/v1/openapi.json"))
    paths = schema["paths"]
    for path in (
        "/api/v1/municipalities/{slug}/debates",
        "/api/v1/municipalities/{slug}/debates/{debate_id}",
        "/api/v1/municipalities/{slug}/debates/{debate_id}/contributions",
        "/api/v1/municipalities/{slug}/debates/{debate_id}/statements/{statement_id}/vote",
        "/api/v1/municipalities/{slug}/debates/{debate_id}/report",
        "/api/v1/municipalities/{slug}/debates/{debate_id}/reports",
    ):
        assert path in paths, path
    vote = paths["/api/v1/municipalities/{slug}/debates/{debate_id}/statements/{statement_id}/vote"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(vote["post"]["responses"])


def test_a_contribution_page_past_the_last_is_404(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    Contribution.objects.create(debate=debate, author=moderator, body="案")
    url = f"{BASE}/{debate.pk}/contributions"
    assert _json(_client().get(url))["count"] == 1
    for page in (2, 10**15):
        past = _client().get(url, {"page": page})
        assert past.status_code == 404 and _json(past)["code"] == "no_such_page"
