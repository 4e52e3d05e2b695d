"""The public record of a debate as CSV (column sets documented in docs/csv-debates.md): the
contributions, the statements with their votes overall and per opinion group, the anonymised vote
matrix and the summary. No personal data: people appear by display name (contributions) or by
their random per-debate participant id (votes), never by account, e-mail or verification."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from debates import selectors
from debates.models import (
    Debate,
    OpinionSnapshot,
)
from identity.decorators import current_municipality, municipality_required
from identity.exports import csv_response

CONTRIBUTION_COLUMNS = (
    "id",
    "created_at",
    "author",
    "category",
    "title",
    "body",
    "hidden",
    "hidden_reason",
    "comment_count",
    "reaction_count",
)
STATEMENT_COLUMNS = (
    "id",
    "created_at",
    "origin",
    "text",
    "agrees",
    "disagrees",
    "passes",
    "votes",
    "agree_rate",
    "consensus",
    "divisive_spread",
    "source_contribution_ids",
)
VOTE_COLUMNS = ("participant", "group", "votes", "agrees", "disagrees", "passes")
SUMMARY_COLUMNS = (
    "debate_id",
    "question",
    "created_at",
    "phase",
    "participants",
    "statements",
    "votes",
    "groups",
    "opinions_computed_at",
    "consensus_statement_ids",
    "divisive_statement_ids",
    "summary",
    "outcome",
    "published_at",
    "proposal_id",
)


def _ids(values: Sequence[int]) -> str:
    return " ".join(str(v) for v in values)


def _group_number(label: int) -> int | None:
    """Groups are numbered from 1 in exports (-1, "not grouped", becomes empty)."""
    return label + 1 if label >= 0 else None


# Contributions -----------------------------------------------------------------------------------


def contribution_rows(debate: Debate) -> Iterator[list[Any]]:
    queryset = selectors.contributions_public(debate, sort="new").order_by("created_at", "pk")
    for c in queryset.iterator(chunk_size=500):
        hidden = c.is_hidden
        yield [
            c.pk,
            c.created_at,
            c.author.display_name,
            c.category,
            "" if hidden else c.title,
            "" if hidden else c.body,
            hidden,
            c.hidden_reason,
            c.comment_count,  # type: ignore[attr-defined]
            c.reaction_count,  # type: ignore[attr-defined]
        ]


# Statements --------------------------------------------------------------------------------------


def statement_group_count(snapshot: OpinionSnapshot | None) -> int:
    return int(snapshot.result.get("k", 0)) if snapshot else 0


def statement_columns(groups: int) -> tuple[str, ...]:
    extra = tuple(
        f"group_{g}_{kind}"
        for g in range(1, groups + 1)
        for kind in ("agrees", "disagrees", "passes")
    )
    return STATEMENT_COLUMNS + extra


def statement_rows(debate: Debate, snapshot: OpinionSnapshot | None) -> Iterator[list[Any]]:
    groups = statement_group_count(snapshot)
    sources = selectors.statement_sources(debate)
    for row in selectors.statements_with_counts(debate, snapshot):
        s = row.statement
        per_group: list[Any] = []
        for g in range(groups):
            counts = row.groups[g] if g < len(row.groups) else None
            per_group += [counts.agrees, counts.disagrees, counts.passes] if counts else [0, 0, 0]
        yield [
            s.pk,
            s.created_at,
            s.origin,
            s.text,
            row.agrees,
            row.disagrees,
            row.passes,
            row.votes,
            f"{row.agrees / row.votes:.4f}" if row.votes else "",
            "" if row.consensus is None else f"{row.consensus:.4f}",
            "" if row.spread is None else f"{row.spread:.4f}",
            _ids(sources.get(s.pk, [])),
            *per_group,
        ]


# The anonymised vote matrix ----------------------------------------------------------------------


def vote_columns(statement_ids: Sequence[int]) -> tuple[str, ...]:
    return VOTE_COLUMNS + tuple(f"s{sid}" for sid in statement_ids)


def vote_rows(
    debate: Debate, statement_ids: Sequence[int], snapshot: OpinionSnapshot | None
) -> Iterator[list[Any]]:
    """One row per participant who voted, ordered by their random id (so the order says nothing
    about who came first): group in the latest snapshot, counts, then 1 / -1 / 0 / empty per
    published statement."""
    column = {sid: j for j, sid in enumerate(statement_ids)}
    group_of = {p[0]: p[3] for p in (snapshot.result.get("points", []) if snapshot else [])}
    votes = selectors.votes_by_participant(statement_ids)
    for token, rows in groupby(votes.iterator(chunk_size=2000), key=lambda r: r[0]):
        cells: list[Any] = [""] * len(statement_ids)
        agrees = disagrees = passes = 0
        for _token, statement_id, value in rows:
            cells[column[statement_id]] = value
            agrees += value == 1
            disagrees += value == -1
            passes += value == 0
        label = group_of.get(token)
        yield [
            token,
            None if label is None else _group_number(label),
            agrees + disagrees + passes,
            agrees,
            disagrees,
            passes,
            *cells,
        ]


# The summary -------------------------------------------------------------------------------------


def summary_rows(detail: selectors.DebateDetail) -> Iterator[list[Any]]:
    debate, conclusion, snapshot = detail.debate, detail.conclusion, detail.snapshot
    totals = selectors.vote_totals(debate)
    result = snapshot.result if snapshot else {}
    yield [
        debate.pk,
        debate.question,
        debate.created_at,
        detail.current.kind if detail.current else "",
        totals.participants,
        totals.statements,
        totals.votes,
        statement_group_count(snapshot),
        snapshot.computed_at if snapshot else None,
        _ids(result.get("consensus", [])),
        _ids(result.get("divisive", [])),
        conclusion.summary if conclusion else "",
        conclusion.outcome if conclusion else "",
        conclusion.published_at if conclusion else None,
        conclusion.proposal_id if conclusion else None,
    ]


# Views (the web app wires the URLs) -------------------------------------------------------------


def _detail(request: HttpRequest, debate_id: int) -> selectors.DebateDetail:
    from identity.errors import NotFound

    try:
        return selectors.debate_detail(current_municipality(request), debate_id)
    except NotFound:
        raise Http404("No such debate") from None


@municipality_required
@require_GET
def contributions_csv(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    debate = _detail(request, debate_id).debate
    return csv_response(
        request,
        f"debate-{debate.pk}-contributions.csv",
        CONTRIBUTION_COLUMNS,
        contribution_rows(debate),
    )


@municipality_required
@require_GET
def statements_csv(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    detail = _detail(request, debate_id)
    return csv_response(
        request,
        f"debate-{detail.debate.pk}-statements.csv",
        statement_columns(statement_group_count(detail.snapshot)),
        statement_rows(detail.debate, detail.snapshot),
    )


@municipality_required
@require_GET
def votes_csv(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    detail = _detail(request, debate_id)
    statement_ids = selectors.published_statement_ids(detail.debate)
    return csv_response(
        request,
        f"debate-{detail.debate.pk}-votes.csv",
        vote_columns(statement_ids),
        vote_rows(detail.debate, statement_ids, detail.snapshot),
    )


@municipality_required
@require_GET
def summary_csv(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    detail = _detail(request, debate_id)
    return csv_response(
        request, f"debate-{detail.debate.pk}-summary.csv", SUMMARY_COLUMNS, summary_rows(detail)
    )
