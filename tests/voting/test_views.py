"""Election pages: each in Japanese and English, who may open what (the office with MFA, trustees
of that election only, voters with the reason when refused), uploads that change nothing when
bad, the query counts of the lists, and the public record served as published."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from identity.errors import InvalidInput
from identity.models import Municipality, Role, User
from tests.factories import (
    ElectionFactory,
    UserFactory,
    election_values,
    staff,
    verified,
)
from tests.voting.conftest import Scenario, randomness_of
from voting import selectors, services, views
from voting.election import (
    ElectionContext,
    TrusteeKey,
    encrypt_ballot,
    generate_key,
    verify_record,
)
from voting.election.rng import TestStream
from voting.models import Ballot, Election, Question, RollEntry, Status, Trustee
from voting.trustee import decrypt_tally

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/elections/"
YES = {"q1": ["yes"], "q2": ["o1", "o2"]}
NO = {"q1": ["no"], "q2": []}


def logged_in(user: User, language: str = "ja") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def anonymous(language: str = "ja") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def _people(n: int) -> list[User]:
    return [UserFactory() for _ in range(n)]


def text(response: Any) -> str:
    return str(response.content.decode())


# Public pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_public_pages_in_both_languages(scenario: Scenario, language: str) -> None:
    election = scenario.election
    client = anonymous(language)
    for path in (
        BASE,
        f"{BASE}{election.pk}/",
        f"{BASE}{election.pk}/board/",
        f"{BASE}{election.pk}/results/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}">' in text(response), path
        assert election.title in text(response), path
    if language == "en":
        with translation.override("en"):
            detail = text(client.get(f"{BASE}{election.pk}/"))
        assert "Sign in to vote" in detail
        assert "Bulletin board" in detail


def test_draft_is_hidden_from_the_public(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=_people(2), keys=trustee_keys
    )
    assert anonymous().get(f"{BASE}{election.pk}/").status_code == 404
    assert logged_in(verified(town)).get(f"{BASE}{election.pk}/").status_code == 404
    assert anonymous().get(f"{BASE}{election.pk}/board/").status_code == 404
    assert election.title not in text(anonymous().get(BASE))
    assert logged_in(office).get(f"{BASE}{election.pk}/").status_code == 200


def test_election_list_query_count_does_not_grow(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    client = anonymous("en")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(BASE).status_code == 200
        return len(captured)

    trustees = _people(2)
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=trustees, keys=trustee_keys
    )
    services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    queries()  # warm the per-process municipality cache
    one = queries()
    for i in range(4):
        keys = [generate_key(TestStream(f"list-{i}-{k}")) for k in range(2)]
        more = ElectionFactory(
            municipality=town, created_by=office, trustees=_people(2), keys=keys, title=f"選挙{i}"
        )
        services.election_freeze(actor=office, municipality=town, election_id=more.pk)
    assert queries() == one
    page = text(client.get(BASE))
    assert page.count("data-election=") == 5


def test_my_elections_query_count_does_not_grow(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    """A voter on several rolls, with ballots in some: the same few queries for one election as
    for five, and each election shows its own standing and tracker."""
    voter = verified(town)
    teen = verified(town, birth=timezone.localdate() - timedelta(days=365 * 16))
    client = logged_in(voter, "en")

    def queries(c: Client = client) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert c.get(f"{BASE}mine/").status_code == 200
        return len(captured)

    def election(i: int) -> Election:
        keys = [generate_key(TestStream(f"mine-{i}-{k}")) for k in range(2)]
        made = ElectionFactory(
            municipality=town, created_by=office, trustees=_people(2), keys=keys, title=f"選挙{i}"
        )
        services.election_freeze(actor=office, municipality=town, election_id=made.pk)
        return made

    first = election(0)
    queries()  # warm the per-process municipality cache
    one = queries()
    trackers = []
    for i in range(1, 5):
        made = election(i)
        if i % 2:
            ballot = encrypt_ballot(
                ElectionContext.from_record(Election.objects.get(pk=made.pk).header),
                RollEntry.objects.get(election=made, user=voter).alias,
                YES,
            )
            receipt = services.ballot_cast(
                actor=voter, municipality=town, election_id=made.pk, ballot_json=ballot
            )
            trackers.append(receipt.tracker)
    assert queries() == one
    rows = selectors.my_elections(voter, town)
    assert len(rows) == 5 and all(row.status.allowed for row in rows)
    assert sorted(row.ballot.tracker for row in rows if row.ballot) == sorted(trackers)
    assert first.pk in {row.election.pk for row in rows if row.ballot is None}
    teen_rows = selectors.my_elections(teen, town)
    assert {row.status.code for row in teen_rows} == {"under_age"}
    assert [selectors.voter_status(teen, row.election) for row in teen_rows] == [
        row.status for row in teen_rows
    ]


def test_office_list_query_count_does_not_grow(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    client = logged_in(office, "en")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{BASE}office/").status_code == 200
        return len(captured)

    ElectionFactory(municipality=town, created_by=office, trustees=_people(2), keys=trustee_keys)
    queries()  # warm the per-process municipality cache
    one = queries()
    for i in range(4):
        keys = [generate_key(TestStream(f"office-{i}-{k}")) for k in range(2)]
        ElectionFactory(
            municipality=town, created_by=office, trustees=_people(2), keys=keys, title=f"選挙{i}"
        )
    assert queries() == one
    page = text(client.get(f"{BASE}office/"))
    for election in Election.objects.all():
        assert f'href="{BASE}office/{election.pk}/"' in page
    assert Election.objects.count() == 5


def test_bulletin_board_search_superseded_and_query_count(scenario: Scenario) -> None:
    first = scenario.cast(scenario.voters[0], YES)
    scenario.cast(scenario.voters[1], NO)
    client = anonymous("en")
    path = f"{BASE}{scenario.election.pk}/board/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    queries()  # warm the per-process municipality cache
    before = queries()
    again = scenario.cast(scenario.voters[0], NO)
    scenario.cast(scenario.voters[2], YES)
    assert queries() == before

    page = text(client.get(path))
    assert page.count("data-tracker=") == 4
    assert f'data-tracker="{first.tracker}" data-superseded="true"' in page
    assert f'data-tracker="{again.tracker}" data-superseded="false"' in page
    alias = scenario.alias(scenario.voters[0])
    assert alias in page

    found = text(client.get(path, {"tracker": first.tracker}))
    assert found.count("data-tracker=") == 1
    assert 'data-found="replaced"' in found
    by_prefix = text(client.get(path, {"tracker": again.tracker[:10].upper()}))
    assert f'data-tracker="{again.tracker}"' in by_prefix

    bad = client.get(path, {"tracker": "xyz"})
    assert bad.status_code == 422
    assert "0–9" in text(bad)


def test_bulletin_board_paginates(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "BOARD_PER_PAGE", 2)
    for voter in scenario.voters:
        scenario.cast(voter, YES)
    client = anonymous("en")
    path = f"{BASE}{scenario.election.pk}/board/"
    first = text(client.get(path))
    second = text(client.get(path, {"page": "2"}))
    assert first.count("data-tracker=") == 2
    assert second.count("data-tracker=") == 1
    assert "page=2" in first and "Page 2 of 2" in second
    assert text(client.get(path, {"page": "99"})).count("data-tracker=") == 1


# Voters --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_ballot_page_carries_only_what_encryption_needs(scenario: Scenario, language: str) -> None:
    voter = scenario.voters[0]
    response = logged_in(voter, language).get(f"{BASE}{scenario.election.pk}/vote/")
    assert response.status_code == 200
    page = text(response)
    assert "<noscript>" in page and "data-noscript" in page
    data = response.context["ballot_data"]
    election = scenario.reload()
    assert data["alias"] == scenario.alias(voter)
    assert data["election_hash"] == election.election_hash
    assert election.header is not None
    assert data["joint_public_key"] == election.header["joint_public_key"]
    assert [q["id"] for q in data["questions"]] == ["q1", "q2"]
    assert data["cast_url"] == (
        f"/m/maebashi/api/v1/municipalities/maebashi/elections/{election.pk}/ballots"
    )
    assert data["csrf_token"]
    # Native inputs with labels: radios for the yes/no question, check boxes for "up to 2".
    assert page.count('type="radio" name="q-q1"') == 2
    assert page.count('type="checkbox" name="q-q2"') == 3
    assert 'for="q1-o1"' in page and 'id="q1-o1"' in page
    assert 'src="/static/voting/js/ballot.mjs"' in page


def test_ineligible_are_told_why(scenario: Scenario) -> None:
    teen = scenario.others["teen"]
    path = f"{BASE}{scenario.election.pk}/vote/"
    with translation.override("en"):
        refused = logged_in(teen, "en").get(path)
    assert refused.status_code == 403
    assert 'data-reason="under_age"' in text(refused)
    assert "This is for people aged 18 or older." in text(refused)
    outsider = logged_in(scenario.others["outsider"], "en").get(path)
    assert outsider.status_code == 403
    assert 'data-reason="not_on_roll"' in text(outsider)
    detail = text(logged_in(teen, "en").get(f"{BASE}{scenario.election.pk}/"))
    assert 'data-reason="under_age"' in detail and "data-vote-link" not in detail
    # The voting page and the election's page say the refusal the same way (one partial).
    assert "You cannot vote in this election." in text(refused)
    assert "You cannot vote in this election." in detail
    assert anonymous().get(path).status_code == 302  # to the sign-in page


@pytest.mark.parametrize("language", ["ja", "en"])
def test_my_elections_shows_standing_and_tracker(scenario: Scenario, language: str) -> None:
    voter = scenario.voters[0]
    receipt = scenario.cast(voter, YES)
    response = logged_in(voter, language).get(f"{BASE}mine/")
    page = text(response)
    assert response.status_code == 200 and f'<html lang="{language}">' in page
    assert receipt.tracker in page
    assert "data-vote-link" in page
    if language == "en":
        with translation.override("en"):
            assert "Vote again" in text(logged_in(voter, "en").get(f"{BASE}mine/"))
    teen_page = text(logged_in(scenario.others["teen"], "en").get(f"{BASE}mine/"))
    assert 'data-reason="under_age"' in teen_page
    trustee_page = text(logged_in(scenario.trustees[0], "en").get(f"{BASE}mine/"))
    assert f'data-trustee-link="{scenario.election.pk}"' in trustee_page


def test_closed_election_refuses_the_ballot_page(scenario: Scenario) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.election_close(
            actor=scenario.office, municipality=scenario.town, election_id=scenario.election.pk
        )
    response = logged_in(scenario.voters[0], "en").get(f"{BASE}{scenario.election.pk}/vote/")
    assert response.status_code == 409
    assert 'data-reason="election_closed"' in text(response)


def test_audited_ballot_page_shows_what_the_server_found(scenario: Scenario) -> None:
    voter = scenario.voters[1]
    ballot = scenario.ballot(voter, YES, seed="audit-page")
    randomness = randomness_of(scenario.ctx, YES, TestStream("audit-page"))
    receipt = services.ballot_audit(
        actor=voter,
        municipality=scenario.town,
        election_id=scenario.election.pk,
        ballot_json=ballot,
        randomness=randomness,
    )
    client = anonymous("en")
    board = text(client.get(f"{BASE}{scenario.election.pk}/board/"))
    assert f'data-audited="{receipt.tracker}"' in board
    for language in ("ja", "en"):
        page = anonymous(language).get(
            f"{BASE}{scenario.election.pk}/board/audited/{receipt.tracker}/"
        )
        assert page.status_code == 200 and f'<html lang="{language}">' in text(page)
    body = text(page)
    assert body.count('data-chosen="1"') == 3  # yes, o1, o2
    assert body.count('data-chosen="0"') == 2
    assert randomness[0]["randomness"][0] in body
    missing = client.get(f"{BASE}{scenario.election.pk}/board/audited/{'0' * 64}/")
    assert missing.status_code == 404


# The election office -------------------------------------------------------------------------


def test_office_pages_refuse_others(scenario: Scenario, town: Municipality) -> None:
    election = scenario.election
    paths = [
        f"{BASE}office/",
        f"{BASE}office/new/",
        f"{BASE}office/{election.pk}/",
        f"{BASE}office/{election.pk}/roll-report/",
        f"{BASE}office/{election.pk}/freeze/",
    ]
    resident = logged_in(scenario.voters[0])
    council = logged_in(staff(town, Role.COUNCIL))
    no_mfa = logged_in(staff(town, Role.ELECTION_OFFICE, mfa=False))
    for path in paths:
        assert resident.get(path).status_code == 403, path
        assert council.get(path).status_code == 403, path
        assert no_mfa.get(path).status_code == 302, path
        assert anonymous().get(path).status_code == 302, path
    before = Election.objects.get(pk=election.pk).status
    assert resident.post(f"{BASE}office/{election.pk}/close/").status_code == 403
    assert Election.objects.get(pk=election.pk).status == before


@pytest.mark.parametrize("language", ["ja", "en"])
def test_office_pages_in_both_languages(scenario: Scenario, language: str) -> None:
    client = logged_in(scenario.office, language)
    election = scenario.election
    keys = [generate_key(TestStream(f"draft-{language}-{i}")) for i in range(2)]
    draft = ElectionFactory(
        municipality=scenario.town,
        created_by=scenario.office,
        trustees=_people(2),
        keys=keys,
        title="下書きの投票",
    )
    for path in (
        f"{BASE}office/",
        f"{BASE}office/new/",
        f"{BASE}office/{election.pk}/",
        f"{BASE}office/{election.pk}/roll-report/",
        f"{BASE}office/{draft.pk}/",
        f"{BASE}office/{draft.pk}/edit/",
        f"{BASE}office/{draft.pk}/questions/",
        f"{BASE}office/{draft.pk}/freeze/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}">' in text(response)


def _election_post(**overrides: str) -> dict[str, Any]:
    now = timezone.localtime()
    data: dict[str, Any] = {
        "title": "住民投票: 駅前広場",
        "explanation": "広場の使い方を決めます。",
        "opens_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "min_age": "18",
        "register_date": "",
        "methods": ["oidc", "register", "counter"],
    }
    data.update(overrides)
    return data


def test_office_creates_and_edits_an_election(town: Municipality, office: User) -> None:
    client = logged_in(office, "en")
    bad = client.post(f"{BASE}office/new/", _election_post(closes_at="2000-01-01T00:00", title=""))
    assert bad.status_code == 422
    assert not Election.objects.exists()

    created = client.post(f"{BASE}office/new/", _election_post())
    election = Election.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"{BASE}office/{election.pk}/questions/"
    assert election.created_by == office and election.methods == ["counter", "oidc", "register"]

    edited = client.post(
        f"{BASE}office/{election.pk}/edit/", _election_post(title="住民投票: 駅前広場の活用")
    )
    assert edited.status_code == 302
    election.refresh_from_db()
    assert election.title == "住民投票: 駅前広場の活用"


def _question_post(*questions: dict[str, str]) -> dict[str, str]:
    data = {
        "q-TOTAL_FORMS": str(len(questions)),
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "20",
    }
    for i, question in enumerate(questions):
        for key, value in question.items():
            data[f"q-{i}-{key}"] = value
    return data


def test_office_sets_questions_and_bad_ones_change_nothing(
    town: Municipality, office: User
) -> None:
    client = logged_in(office, "en")
    client.post(f"{BASE}office/new/", _election_post())
    election = Election.objects.get()
    path = f"{BASE}office/{election.pk}/questions/"
    form = client.get(path)
    assert form.status_code == 200 and 'name="q-0-text"' in text(form)

    good = client.post(
        path,
        _question_post(
            {"text": "賛成ですか。", "kind": "yes_no"},
            {
                "text": "二つまで選んでください。",
                "kind": "list",
                "options": "公園\n保育所\n\n図書館\n",
                "min_selections": "0",
                "max_selections": "2",
            },
            {"text": "", "kind": "yes_no"},  # an empty slot is ignored
        ),
    )
    assert good.status_code == 302
    saved = [q.to_json() for q in Question.objects.filter(election=election)]
    assert [q["options"][0]["id"] for q in saved] == ["yes", "o1"]
    assert [o["text"] for o in saved[1]["options"]] == ["公園", "保育所", "図書館"]

    too_many = client.post(
        path,
        _question_post(
            {
                "text": "一つ",
                "kind": "list",
                "options": "A\nB",
                "min_selections": "0",
                "max_selections": "3",
            }
        ),
    )
    assert too_many.status_code == 422
    duplicate = client.post(
        path,
        _question_post(
            {
                "text": "同じ",
                "kind": "list",
                "options": "A\nA",
                "min_selections": "0",
                "max_selections": "1",
            }
        ),
    )
    assert duplicate.status_code == 422 and "data-refusal" in text(duplicate)
    assert [q.to_json() for q in Question.objects.filter(election=election)] == saved


def test_office_appoints_trustees_and_sees_key_status(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    client = logged_in(office, "en")
    client.post(f"{BASE}office/new/", _election_post())
    election = Election.objects.get()
    trustee = UserFactory(email="trustee@example.jp")
    appoint = f"{BASE}office/{election.pk}/trustees/"
    unknown = client.post(appoint, {"email": "nobody@example.jp"})
    assert unknown.status_code == 422 and "No account" in text(unknown)
    assert client.post(appoint, {"email": "TRUSTEE@example.jp"}).status_code == 302
    again = client.post(appoint, {"email": "trustee@example.jp"})
    assert again.status_code == 422
    page = text(client.get(f"{BASE}office/{election.pk}/"))
    assert "trustee@example.jp" in page and "waiting for the key" in page
    services.trustee_key_upload(
        actor=trustee,
        municipality=town,
        election_id=election.pk,
        upload=trustee_keys[0].upload_json(),
    )
    assert "uploaded, proof checked" in text(client.get(f"{BASE}office/{election.pk}/"))
    removable = Trustee.objects.get(election=election)
    assert (
        client.post(f"{BASE}office/{election.pk}/trustees/{removable.pk}/remove/").status_code
        == 302
    )
    assert not Trustee.objects.filter(election=election).exists()


def test_freeze_confirmation_then_roll_report(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=_people(2), keys=trustee_keys
    )
    verified(town)
    teen = verified(town, birth=timezone.localdate() - timedelta(days=365 * 16))
    client = logged_in(office, "en")
    with translation.override("en"):
        confirm = text(client.get(f"{BASE}office/{election.pk}/freeze/"))
    assert "Freezing cannot be undone" in confirm and "voter roll" in confirm
    assert Election.objects.get(pk=election.pk).status == Status.DRAFT  # GET changes nothing

    frozen = client.post(f"{BASE}office/{election.pk}/freeze/")
    assert frozen.status_code == 302
    assert Election.objects.get(pk=election.pk).status == Status.FROZEN

    report = text(client.get(f"{BASE}office/{election.pk}/roll-report/"))
    assert teen.email in report and 'data-reason="under_age"' in report
    assert "data-roll-size>1<" in report
    # The edit pages are closed once frozen.
    assert client.get(f"{BASE}office/{election.pk}/edit/").status_code == 302
    assert client.get(f"{BASE}office/{election.pk}/questions/").status_code == 302


def test_office_closes_tallies_and_publishes_through_trustees(scenario: Scenario) -> None:
    scenario.cast(scenario.voters[0], YES)
    scenario.cast(scenario.voters[1], NO)
    office = logged_in(scenario.office, "en")
    election_id = scenario.election.pk
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert office.post(f"{BASE}office/{election_id}/close/").status_code == 302
    election = scenario.reload()
    assert election.status == Status.TALLIED  # the tally task ran after the close committed
    page = text(office.get(f"{BASE}office/{election_id}/"))
    assert page.count("data-decryption-status") == 2 and "Waiting for the trustees" in page

    for user, key in zip(scenario.trustees, scenario.keys, strict=True):
        client = logged_in(user, "en")
        download = client.get(f"{BASE}{election_id}/trustee/tally.json")
        assert download.status_code == 200
        assert download["Content-Disposition"].startswith("attachment;")
        factors = decrypt_tally(key, json.loads(download.content))
        with TestCase.captureOnCommitCallbacks(execute=True):
            upload = client.post(
                f"{BASE}{election_id}/trustee/factors/", {"factors-text": json.dumps(factors)}
            )
        assert upload.status_code == 302
    election = scenario.reload()
    assert election.status == Status.PUBLISHED

    results = anonymous("en").get(f"{BASE}{election_id}/results/")
    body = text(results)
    assert 'data-option="yes" data-count="1"' in body
    assert 'data-option="no" data-count="1"' in body
    assert "2 of 3 voters voted" in body
    assert "1 vote (50.0%)" in body
    assert f"{BASE}{election_id}/results.csv" in body and f"{BASE}{election_id}/board.csv" in body
    csv = anonymous().get(f"{BASE}{election_id}/results.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "python -m voting.verify" in body and "data-verify-guide" in body
    record = anonymous().get(f"{BASE}{election_id}/record.json")
    assert record.status_code == 200
    assert record["Content-Type"] == "application/json"
    report = verify_record(json.loads(record.content), workers=1)
    assert report.ok, report.failures
    assert [r["counts"] for r in report.results] == [[1, 1], [1, 1, 0]]


def test_record_is_not_served_before_publishing(scenario: Scenario) -> None:
    assert anonymous().get(f"{BASE}{scenario.election.pk}/record.json").status_code == 404
    results = text(anonymous("en").get(f"{BASE}{scenario.election.pk}/results/"))
    assert "not published yet" in results


# Trustees ------------------------------------------------------------------------------------


def test_trustee_page_is_for_that_trustee_only(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    mine, theirs = _people(2)
    election = services.election_create(
        actor=office,
        municipality=town,
        values=election_values(),
    )
    for user in (mine, theirs):
        services.trustee_appoint(
            actor=office, municipality=town, election_id=election.pk, email=user.email
        )
    stranger_election = ElectionFactory(
        municipality=town,
        created_by=office,
        trustees=_people(2),
        keys=[generate_key(TestStream(f"stranger-{i}")) for i in range(2)],
    )
    path = f"{BASE}{election.pk}/trustee/"
    for language in ("ja", "en"):
        page = logged_in(mine, language).get(path)
        assert page.status_code == 200
        assert "python -m voting.trustee keygen" in text(page)
    assert logged_in(verified(town)).get(path).status_code == 403
    assert logged_in(office).get(path).status_code == 403
    assert logged_in(mine).get(f"{BASE}{stranger_election.pk}/trustee/").status_code == 403
    assert anonymous().get(path).status_code == 302
    assert logged_in(mine).get(f"{BASE}{election.pk}/trustee/tally.json").status_code == 302


def test_key_upload_checks_the_proof_and_bad_uploads_change_nothing(
    town: Municipality, office: User, trustee_keys: list[TrusteeKey]
) -> None:
    (trustee,) = _people(1)
    election = services.election_create(
        actor=office,
        municipality=town,
        values=election_values(),
    )
    services.trustee_appoint(
        actor=office, municipality=town, election_id=election.pk, email=trustee.email
    )
    client = logged_in(trustee, "en")
    path = f"{BASE}{election.pk}/trustee/key/"
    upload = trustee_keys[0].upload_json()
    forged = {**upload, "pok": {**upload["pok"], "response": format(12345, "x")}}
    with_secret = {**upload, "secret_key": "abc"}
    for data, expected in (
        ({"key-text": json.dumps(forged)}, "The key was refused"),
        ({"key-text": json.dumps(with_secret)}, "secret key"),
        ({"key-text": "{not json"}, "not valid JSON"),
        ({"key-text": "[1, 2]"}, "must be an object"),
        ({"key-text": ""}, "Paste the JSON"),
    ):
        with translation.override("en"):
            response = client.post(path, data)
        assert response.status_code == 422, data
        assert expected in text(response), (expected, text(response)[:2000])
        assert Trustee.objects.get(user=trustee).uploaded_at is None

    from django.core.files.uploadedfile import SimpleUploadedFile

    good = client.post(
        path,
        {"key-file": SimpleUploadedFile("public.json", json.dumps(upload).encode())},
    )
    assert good.status_code == 302
    stored = Trustee.objects.get(user=trustee)
    assert stored.uploaded_at is not None and stored.public_key == upload["public_key"]


def test_bad_factors_change_nothing(scenario: Scenario) -> None:
    scenario.cast(scenario.voters[0], YES)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.election_close(
            actor=scenario.office, municipality=scenario.town, election_id=scenario.election.pk
        )
    election = scenario.reload()
    user, key = scenario.trustees[0], scenario.keys[0]
    request = selectors.trustee_tally_request(user, election)
    factors = decrypt_tally(key, request)
    factor = factors["questions"][0]["choices"][0]
    factor["factor"] = format(int(factor["factor"], 16) * 4 % (1 << 2000) + 1, "x")
    client = logged_in(user, "en")
    with translation.override("en"):
        response = client.post(
            f"{BASE}{election.pk}/trustee/factors/", {"factors-text": json.dumps(factors)}
        )
    assert response.status_code == 422
    assert "The decryption was refused" in text(response) and "Nothing was changed" in text(
        response
    )
    assert not election.decryptions.exists()
    # Another election's trustee may not upload here.
    other = logged_in(scenario.voters[0]).post(
        f"{BASE}{election.pk}/trustee/factors/", {"factors-text": json.dumps(factors)}
    )
    assert other.status_code == 403
    assert Ballot.objects.filter(election=election).count() == 1


# The ballot script's own logic ---------------------------------------------------------------

NODE = shutil.which("node")
BALLOT_JS = Path(__file__).resolve().parents[2] / "voting" / "static" / "voting" / "js"


@pytest.mark.node
def test_ballot_script_helpers() -> None:
    """The pure helpers of ballot.mjs (the page's steps are driven in tests/browser)."""
    script = """
    import { selectionProblems, format, groupedTracker, abbreviated } from "./ballot.mjs";
    const questions = [
      { id: "q1", min_selections: 1, max_selections: 1 },
      { id: "q2", min_selections: 0, max_selections: 2 },
    ];
    console.log(JSON.stringify({
      ok: selectionProblems(questions, { q1: ["yes"], q2: ["a", "b"] }),
      bad: selectionProblems(questions, { q2: ["a", "b", "c"] }),
      text: format("at most %(max)s (you chose %(chosen)s), %(other)s", { max: 2, chosen: 3 }),
      tracker: groupedTracker("0123456789abcdef01"),
      short: [abbreviated("ab"), abbreviated("0123456789abcdef0123")],
    }));
    """
    assert NODE is not None
    run = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        cwd=BALLOT_JS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["ok"] == []
    assert out["bad"] == [
        {"question": "q1", "kind": "too_few", "min": 1, "max": 1, "chosen": 0},
        {"question": "q2", "kind": "too_many", "min": 0, "max": 2, "chosen": 3},
    ]
    assert out["text"] == "at most 2 (you chose 3), %(other)s"
    assert out["tracker"] == "01234567 89abcdef 01"
    assert out["short"] == ["ab", "0123456789abcdef…"]


@pytest.mark.node
def test_browser_key_pair_is_what_the_tool_and_the_server_accept() -> None:
    """trustee_keygen.mjs: the public part passes the server's proof check, and the key file is
    one the trustee tool loads (its secret matches its public key)."""
    from voting.services.elections import check_key_upload
    from voting.trustee import load_key

    script = """
    import { makeKeyPair } from "./trustee_keygen.mjs";
    console.log(JSON.stringify(await makeKeyPair()));
    """
    assert NODE is not None
    run = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        cwd=BALLOT_JS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    pair = json.loads(run.stdout)
    assert set(pair["upload"]) == {"public_key", "pok"}
    public, _proof = check_key_upload(pair["upload"])
    key = load_key(pair["keyFile"], None)
    assert format(key.public, "x") == public == pair["keyFile"]["public_key"]
    forged = {**pair["upload"], "pok": {**pair["upload"]["pok"], "response": "2"}}
    with pytest.raises(InvalidInput):
        check_key_upload(forged)
