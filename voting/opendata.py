"""Elections' public downloads for the open data page and zip (identity.opendata): results and
election records once published, bulletin boards from freezing on (docs/csv-voting.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from identity.models import Municipality
from identity.opendata import DataFile, Dataset, csv_body
from voting import exports, selectors
from voting.models import Election, Status
from voting.services import record_bytes


def _elections(municipality: Municipality, published: bool = False) -> list[Election]:
    elections = selectors.elections_public(municipality)
    if published:
        elections = elections.filter(status=Status.PUBLISHED)
    return list(elections.select_related("municipality").order_by("pk"))


def _results(municipality: Municipality) -> Iterator[DataFile]:
    for election in _elections(municipality, published=True):

        def rows(e: Election = election) -> Iterator[list[Any]]:
            results = selectors.results_of(e)
            return exports.result_rows(results) if results else iter(())

        yield DataFile(
            reverse("voting:results_csv", args=[election.pk]),
            f"elections/election-{election.pk}-results.csv",
            election.title,
            csv_body(lambda: exports.RESULT_COLUMNS, rows),
        )


def _boards(municipality: Municipality) -> Iterator[DataFile]:
    for election in _elections(municipality):

        def rows(e: Election = election) -> Iterator[list[Any]]:
            return exports.board_rows(e)

        yield DataFile(
            reverse("voting:board_csv", args=[election.pk]),
            f"elections/election-{election.pk}-board.csv",
            election.title,
            csv_body(lambda: exports.BOARD_COLUMNS, rows),
        )


def _records(municipality: Municipality) -> Iterator[DataFile]:
    for election in _elections(municipality, published=True):

        def body(e: Election = election) -> list[bytes]:
            return [record_bytes(selectors.record_of(e).record)]

        yield DataFile(
            reverse("voting:record", args=[election.pk]),
            f"elections/record-{municipality.slug}-{election.pk}.json",
            election.title,
            body,
        )


DATASETS = (
    Dataset(
        key="election_results",
        title=_("Election results"),
        description=_(
            "For each published election: the count of every option of every question, "
            "turnout, and the SHA-256 of its election record."
        ),
        doc="docs/csv-voting.md",
        columns=exports.RESULT_COLUMNS,
        files=_results,
    ),
    Dataset(
        key="election_boards",
        title=_("Bulletin boards"),
        description=_(
            "For each election from the moment it is frozen: every cast ballot's alias and "
            "tracker in the order received, and whether it counts. No ballot names a voter."
        ),
        doc="docs/csv-voting.md",
        columns=exports.BOARD_COLUMNS,
        files=_boards,
    ),
    Dataset(
        key="election_records",
        title=_("Election records"),
        description=_(
            "For each published election: the complete record (JSON) with which anyone can "
            "check the result with python -m voting.verify."
        ),
        doc="docs/csv-voting.md",
        format="JSON",
        files=_records,
    ),
)
