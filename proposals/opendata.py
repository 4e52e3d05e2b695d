"""Proposals' public downloads for the open data page and zip (identity.opendata): all proposals,
each proposal's daily signatures, and the council's answers (docs/csv-proposals.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from identity.models import Municipality
from identity.opendata import DataFile, Dataset, csv_body
from proposals import exports, selectors
from proposals.models import Proposal


def _public(municipality: Municipality) -> QuerySet[Proposal]:
    return selectors.proposals_public(municipality, selectors.ProposalFilter()).order_by("id")


def _proposals(municipality: Municipality) -> Iterator[DataFile]:
    yield DataFile(
        reverse("proposals:csv"),
        "proposals/proposals.csv",
        str(_("All proposals")),
        csv_body(
            lambda: exports.PROPOSAL_COLUMNS,
            lambda: exports.proposal_rows(_public(municipality)),
        ),
    )


def _daily(municipality: Municipality) -> Iterator[DataFile]:
    """One file per proposal whose collection has opened (before that it has no day to count)."""
    opened = _public(municipality).filter(collection_opens_at__isnull=False)
    for proposal in opened.select_related(None).only(
        "id", "title", "collection_opens_at", "collection_closes_at"
    ):

        def rows(p: Proposal = proposal) -> Iterator[list[Any]]:
            return (
                [day.isoformat(), count, total]
                for day, count, total in selectors.daily_signatures(p)
            )

        yield DataFile(
            reverse("proposals:daily_csv", args=[proposal.pk]),
            f"proposals/daily/proposal-{proposal.pk}-daily.csv",
            proposal.title,
            csv_body(lambda: exports.DAILY_COLUMNS, rows),
        )


def _answers(municipality: Municipality) -> Iterator[DataFile]:
    yield DataFile(
        reverse("proposals:answers_csv"),
        "proposals/answers.csv",
        str(_("All council answers")),
        csv_body(
            lambda: exports.ANSWER_COLUMNS,
            lambda: exports.answer_rows(selectors.council_answers_public(municipality)),
        ),
    )


DATASETS = (
    Dataset(
        key="proposals",
        title=_("Proposals"),
        description=_(
            "Every proposal except drafts: its type, status, signature count and threshold, the "
            "collection period, certification, and the council's decision."
        ),
        doc="docs/csv-proposals.md",
        columns=exports.PROPOSAL_COLUMNS,
        files=_proposals,
    ),
    Dataset(
        key="daily_signatures",
        title=_("Daily signatures"),
        description=_(
            "For each proposal that has collected signatures: new signatures per day (Japan "
            "time) and the running total."
        ),
        doc="docs/csv-proposals.md",
        columns=exports.DAILY_COLUMNS,
        files=_daily,
    ),
    Dataset(
        key="council_answers",
        title=_("Council answers"),
        description=_("The council's decision on each proposal, with its reasons as published."),
        doc="docs/csv-proposals.md",
        columns=exports.ANSWER_COLUMNS,
        files=_answers,
    ),
)
