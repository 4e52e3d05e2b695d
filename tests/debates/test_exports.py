"""Debate CSV exports: column sets (docs/csv-debates.md), BOM, formula safety, no personal data."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import Http404
from django.http.response import HttpResponseBase
from django.test import RequestFactory

from debates import exports
from debates.models import Contribution, Debate, Participant, Statement
from debates.services import (
    content_hide,
    statement_create_from_contributions,
    summary_publish,
    vote_cast,
)
from debates.services.opinions import opinions_compute
from identity.models import Municipality, Role, User
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    UserFactory,
    staff,
    verified,
)


@pytest.fixture
def moderator(town: Municipality) -> User:
    return staff(town, Role.MODERATOR)


def _get(view: Any, town: Municipality, debate: Debate) -> tuple[str, list[list[str]]]:
    request = RequestFactory().get("/")
    request.municipality = town
    response: HttpResponseBase = view(request, debate.pk)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="debate-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return text, list(csv.reader(io.StringIO(text[1:])))


def test_contributions_csv_has_display_names_only_and_is_formula_safe(
    town: Municipality, moderator: User
) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    author = UserFactory(display_name="=HYPERLINK(1)", email="private@example.jp")
    Contribution.objects.create(debate=debate, author=author, title="+1", body="=SUM(A1:A9)")
    hidden = Contribution.objects.create(debate=debate, author=author, body="秘密の暴言")
    content_hide(actor=moderator, target=hidden, reason="暴言")
    text, rows = _get(exports.contributions_csv, town, debate)
    assert tuple(rows[0]) == exports.CONTRIBUTION_COLUMNS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["author"] == "'=HYPERLINK(1)" and first["title"] == "'+1"
    assert first["body"] == "'=SUM(A1:A9)" and first["hidden"] == "false"
    assert first["created_at"].endswith("+09:00")
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["hidden"] == "true" and second["body"] == "" and second["hidden_reason"] == "暴言"
    assert "private@example.jp" not in text and "秘密の暴言" not in text


def _voted(town: Municipality, moderator: User) -> tuple[Debate, list[Statement], list[User]]:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge", "conclude"))
    source = Contribution.objects.create(debate=debate, author=moderator, body="屋根")
    statements = [
        statement_create_from_contributions(
            actor=moderator, debate_id=debate.pk, text=text, contribution_ids=ids
        )
        for text, ids in (("屋根を", [source.pk]), ("ベンチを", []), ("-車を止める", []))
    ]
    voters = [verified(town) for _ in range(3)]
    for i, voter in enumerate(voters):
        vote_cast(actor=voter, statement_id=statements[0].pk, value=1)
        vote_cast(actor=voter, statement_id=statements[1].pk, value=(i % 3) - 1)
    return debate, statements, voters


def test_statements_csv_counts_overall_and_per_group(town: Municipality, moderator: User) -> None:
    debate, statements, _voters = _voted(town, moderator)
    _text, rows = _get(exports.statements_csv, town, debate)
    assert tuple(rows[0]) == exports.STATEMENT_COLUMNS  # no snapshot yet: no group columns
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    roof = by_id[str(statements[0].pk)]
    assert (roof["agrees"], roof["disagrees"], roof["passes"], roof["votes"]) == (
        "3",
        "0",
        "0",
        "3",
    )
    assert roof["agree_rate"] == "1.0000" and roof["source_contribution_ids"] != ""
    assert by_id[str(statements[2].pk)]["text"] == "'-車を止める"
    assert by_id[str(statements[2].pk)]["agree_rate"] == ""
    # With a snapshot (one group: everyone votes alike enough, min_votes lowered).
    from debates.opinion import OpinionParameters

    snapshot = opinions_compute(debate.pk, OpinionParameters(min_votes=1))
    assert snapshot is not None and snapshot.group_count >= 1
    _text, rows = _get(exports.statements_csv, town, debate)
    assert tuple(rows[0]) == exports.statement_columns(snapshot.group_count)
    assert rows[0][len(exports.STATEMENT_COLUMNS)] == "group_1_agrees"
    roof = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}[str(statements[0].pk)]
    assert sum(int(roof[f"group_{g}_agrees"]) for g in range(1, snapshot.group_count + 1)) == 3


def test_vote_matrix_is_anonymised(town: Municipality, moderator: User) -> None:
    debate, statements, voters = _voted(town, moderator)
    text, rows = _get(exports.votes_csv, town, debate)
    assert tuple(rows[0]) == exports.vote_columns([s.pk for s in statements])
    tokens = sorted(Participant.objects.filter(debate=debate).values_list("token", flat=True))
    assert [row[0] for row in rows[1:]] == tokens
    for voter in voters:
        assert voter.email not in text and voter.display_name not in text
    mine = Participant.objects.get(debate=debate, user=voters[0])
    row = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == mine.token), strict=True))
    assert row[f"s{statements[0].pk}"] == "1" and row[f"s{statements[1].pk}"] == "-1"
    assert row[f"s{statements[2].pk}"] == "" and row["votes"] == "2" and row["group"] == ""


def test_summary_csv(town: Municipality, moderator: User) -> None:
    debate, _statements, _voters = _voted(town, moderator)
    from debates.services import phase_advance

    phase_advance(actor=moderator, debate_id=debate.pk)
    summary_publish(actor=moderator, debate_id=debate.pk, summary="@要約", outcome="屋根を提案")
    _text, rows = _get(exports.summary_csv, town, debate)
    assert tuple(rows[0]) == exports.SUMMARY_COLUMNS and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["phase"] == "conclude" and row["participants"] == "3"
    assert row["statements"] == "3" and row["votes"] == "6"
    assert row["summary"] == "'@要約" and row["outcome"] == "屋根を提案"


def test_csv_of_another_municipality_is_not_found(town: Municipality, moderator: User) -> None:
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("diverge",))
    request = RequestFactory().get("/")
    request.municipality = MunicipalityFactory()
    with pytest.raises(Http404):
        exports.contributions_csv(request, debate.pk)
