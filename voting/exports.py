"""The public record of an election as files: results CSV, bulletin board CSV and record.json.

Column sets are contracts (docs/csv-voting.md). The thin view functions at the end are wired to
URLs by voting/urls.py: `results_csv`, `board_csv`, `record_json` (all public, GET only, 404 for
drafts and, for results and the record, before publication).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from identity.decorators import current_municipality, municipality_required
from identity.errors import DomainError
from identity.exports import csv_response
from voting import selectors
from voting.models import Election
from voting.services import record_bytes

RESULT_COLUMNS = (
    "election_id",
    "election_uuid",
    "question_id",
    "question",
    "option_id",
    "option",
    "count",
    "share_of_counted",
    "ballots_counted",
    "roll_size",
    "turnout",
    "published_at",
    "record_sha256",
)
BOARD_COLUMNS = ("position", "alias", "tracker", "cast_at", "superseded", "counted")


def result_rows(results: selectors.Results) -> Iterator[list[Any]]:
    election = results.election
    for question in results.questions:
        for option in question.options:
            yield [
                election.pk,
                str(election.uuid),
                question.id,
                question.text,
                option.id,
                option.text,
                option.count,
                f"{option.share:.4f}",
                results.ballots_counted,
                results.roll_size,
                f"{results.turnout:.4f}",
                results.published_at,
                results.record_sha256,
            ]


def board_rows(election: Election) -> Iterator[list[Any]]:
    ballots = selectors.board_rows(election).values_list(
        "roll_entry__alias", "tracker", "cast_at", "superseded"
    )
    for position, (alias, tracker, cast_at, superseded) in enumerate(
        ballots.iterator(chunk_size=2000), start=1
    ):
        yield [position, alias, tracker, cast_at, superseded, not superseded]


def record_response(request: HttpRequest, election: Election) -> HttpResponse:
    """record.json: the stored record as canonical JSON (its SHA-256 is on the results page)."""
    try:
        result = selectors.record_of(election)
    except DomainError as error:
        raise Http404(str(error.message)) from error
    response = HttpResponse(record_bytes(result.record), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="record-{election.municipality.slug}-{election.pk}.json"'
    )
    return response


def _public_election(request: HttpRequest, election_id: int) -> Election:
    try:
        return selectors.election_visible(current_municipality(request), election_id, None)
    except DomainError as error:
        raise Http404(str(error.message)) from error


@municipality_required
@require_GET
def results_csv(request: HttpRequest, election_id: int) -> HttpResponseBase:
    election = _public_election(request, election_id)
    results = selectors.results_of(election)
    if results is None:
        raise Http404("not published")
    return csv_response(
        request, f"election-{election.pk}-results.csv", RESULT_COLUMNS, result_rows(results)
    )


@municipality_required
@require_GET
def board_csv(request: HttpRequest, election_id: int) -> HttpResponseBase:
    election = _public_election(request, election_id)
    return csv_response(
        request, f"election-{election.pk}-board.csv", BOARD_COLUMNS, board_rows(election)
    )


@municipality_required
@require_GET
def record_json(request: HttpRequest, election_id: int) -> HttpResponse:
    return record_response(request, _public_election(request, election_id))
