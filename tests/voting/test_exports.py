"""CSV column sets (docs/csv-voting.md) and record.json, through the view functions."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.http import Http404
from django.test import RequestFactory

from tests.voting.conftest import NO, YES, Scenario
from voting import exports
from voting.election import verify_record

pytestmark = pytest.mark.django_db


def _get(s: Scenario, view: Any) -> Any:
    request = RequestFactory().get("/")
    request.municipality = s.town
    return view(request, s.election.pk)


def _rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_board_csv_columns(scenario: Scenario) -> None:
    s = scenario
    first = s.cast(s.voters[0], YES)
    second = s.cast(s.voters[0], NO)
    rows = _rows(_get(s, exports.board_csv))
    assert rows[0] == list(exports.BOARD_COLUMNS)
    alias = s.alias(s.voters[0])
    assert [r[:3] + r[4:] for r in rows[1:]] == [
        ["1", alias, first.tracker, "true", "false"],
        ["2", alias, second.tracker, "false", "true"],
    ]
    assert rows[1][3].endswith("+09:00")  # ISO 8601 with the offset


def test_results_csv_and_record(scenario: Scenario) -> None:
    s = scenario
    with pytest.raises(Http404):
        _get(s, exports.results_csv)
    with pytest.raises(Http404):
        _get(s, exports.record_json)
    s.cast(s.voters[0], YES)
    s.cast(s.voters[1], {"q1": ["no"], "q2": ["o2"]})
    s.close_and_decrypt()
    rows = _rows(_get(s, exports.results_csv))
    assert rows[0] == list(exports.RESULT_COLUMNS)
    by_option = {(r[2], r[4]): r for r in rows[1:]}
    assert len(by_option) == 5
    assert by_option[("q1", "yes")][6] == "1" and by_option[("q1", "no")][6] == "1"
    assert by_option[("q2", "o2")][6] == "2" and by_option[("q2", "o3")][6] == "0"
    assert by_option[("q1", "yes")][3] == "新しい図書館を建てることに賛成ですか。"
    assert by_option[("q1", "yes")][7] == "0.5000"
    assert {r[8] for r in rows[1:]} == {"2"} and {r[9] for r in rows[1:]} == {"3"}
    response = _get(s, exports.record_json)
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    record = json.loads(response.content)
    assert record["spec"] == "mebuku-election-record/1"
    assert verify_record(record).ok


def test_csv_escapes_formulas(scenario: Scenario) -> None:
    """Question and option texts come from the office; a leading = is neutralised."""
    from voting.models import Question

    s = scenario
    Question.objects.filter(election=s.election, qid="q1").update(text="=HYPERLINK(1)")
    s.close_and_decrypt()
    rows = _rows(_get(s, exports.results_csv))
    assert rows[1][3] == "'=HYPERLINK(1)"
