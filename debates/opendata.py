"""Debates' public downloads for the open data page and zip (identity.opendata): per debate its
contributions, statements, anonymised votes and summary (docs/csv-debates.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from debates import exports, selectors
from debates.models import Debate
from identity.models import Municipality
from identity.opendata import DataFile, Dataset, csv_body

# Each file of a debate: (URL name, file name suffix, header, rows); header and rows from the
# debate's detail, read when the file is written.
Detail = selectors.DebateDetail
Header = Callable[[Detail], Sequence[str]]
Rows = Callable[[Detail], Iterable[Sequence[Any]]]


def _statement_header(detail: Detail) -> Sequence[str]:
    return exports.statement_columns(exports.statement_group_count(detail.snapshot))


def _vote_header(detail: Detail) -> Sequence[str]:
    return exports.vote_columns(selectors.published_statement_ids(detail.debate))


def _vote_rows(detail: Detail) -> Iterable[Sequence[Any]]:
    ids = selectors.published_statement_ids(detail.debate)
    return exports.vote_rows(detail.debate, ids, detail.snapshot)


def _files(
    url_name: str, suffix: str, header: Header, rows: Rows
) -> Callable[[Municipality], Iterator[DataFile]]:
    def files(municipality: Municipality) -> Iterator[DataFile]:
        debates = Debate.objects.filter(municipality=municipality).order_by("pk")
        for debate in debates.only("id", "question"):

            def produce(pk: int = debate.pk) -> Iterator[bytes]:
                detail = selectors.debate_detail(municipality, pk)
                yield from csv_body(lambda: header(detail), lambda: rows(detail))()

            yield DataFile(
                reverse(f"debates:{url_name}", args=[debate.pk]),
                f"debates/debate-{debate.pk}-{suffix}.csv",
                debate.question,
                produce,
            )

    return files


DATASETS = (
    Dataset(
        key="debate_contributions",
        title=_("Debate contributions"),
        description=_(
            "For each debate: the ideas posted, by display name, with comment and reaction "
            "counts. Hidden ones stay, with the moderator's reason instead of their text."
        ),
        doc="docs/csv-debates.md",
        columns=exports.CONTRIBUTION_COLUMNS,
        files=_files(
            "contributions_csv",
            "contributions",
            lambda d: exports.CONTRIBUTION_COLUMNS,
            lambda d: exports.contribution_rows(d.debate),
        ),
    ),
    Dataset(
        key="debate_statements",
        title=_("Debate statements"),
        description=_(
            "For each debate: the published statements with their agree, disagree and pass "
            "votes, overall and per opinion group."
        ),
        doc="docs/csv-debates.md",
        columns=exports.STATEMENT_COLUMNS,
        more_columns=_(
            "then group_n_agrees, group_n_disagrees, group_n_passes for each opinion group n"
        ),
        files=_files(
            "statements_csv",
            "statements",
            _statement_header,
            lambda d: exports.statement_rows(d.debate, d.snapshot),
        ),
    ),
    Dataset(
        key="debate_votes",
        title=_("Debate votes (anonymised)"),
        description=_(
            "For each debate: one row per person who voted, under a random id that differs in "
            "every debate, with their vote on each statement."
        ),
        doc="docs/csv-debates.md",
        columns=exports.VOTE_COLUMNS,
        more_columns=_("then one column s<id> per published statement"),
        files=_files("votes_csv", "votes", _vote_header, _vote_rows),
    ),
    Dataset(
        key="debate_summaries",
        title=_("Debate summaries"),
        description=_(
            "For each debate: participation, the opinion groups, and the moderators' summary "
            "and outcome."
        ),
        doc="docs/csv-debates.md",
        columns=exports.SUMMARY_COLUMNS,
        files=_files(
            "summary_csv",
            "summary",
            lambda d: exports.SUMMARY_COLUMNS,
            lambda d: exports.summary_rows(d),
        ),
    ),
)
