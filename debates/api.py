"""Debates in the JSON API: the public record (debates, phases, contributions, comments,
statements, the opinion report) and taking part (contribute, comment, react, vote, propose a
statement, report content). Domain errors become `{"code", "message"}` with 403 (with the reason
code), 404, 409 or 422 through the API's handler."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from debates import selectors, services
from debates.models import (
    Comment,
    Contribution,
    Debate,
)
from debates.schemas import (
    CommentIn,
    CommentOut,
    ConclusionOut,
    ContributionIn,
    ContributionOut,
    ContributionPage,
    ContributionQuery,
    DebateDetailOut,
    DebateOut,
    GroupCountsOut,
    GroupOut,
    NextQuery,
    PhaseOut,
    PointOut,
    ReactionOut,
    ReportFiledOut,
    ReportIn,
    ReportOut,
    RepresentativeOut,
    StatementIn,
    StatementOut,
    VoteIn,
    VoteOut,
)
from identity.api import (
    AUTH,
    ErrorOut,
    auth_user,
    errors,
    municipality_or_404,
    optional_user,
    page_slice,
)
from identity.errors import InvalidInput, NotFound
from identity.idempotency import idempotent

router = Router(tags=["debates"])

PAGE_SIZE = 50


# Helpers -----------------------------------------------------------------------------------------


def _detail(slug: str, debate_id: int) -> selectors.DebateDetail:
    return selectors.debate_detail(municipality_or_404(slug), debate_id)


def _debate(slug: str, debate_id: int) -> Debate:
    debate = selectors.debate_in(municipality_or_404(slug), debate_id)
    if debate is None:
        raise NotFound(_("No such debate."))
    return debate


def _contribution(debate: Debate, contribution_id: int) -> Contribution:
    contribution = selectors.contribution_in(debate, contribution_id)
    if contribution is None:
        raise NotFound(_("No such contribution."))
    return contribution


def _groups(row: selectors.StatementRow) -> list[GroupCountsOut]:
    return [
        GroupCountsOut(group=g.group + 1, agrees=g.agrees, disagrees=g.disagrees, passes=g.passes)
        for g in row.groups
    ]


# Reading -----------------------------------------------------------------------------------------


@router.get(
    "/municipalities/{slug}/debates", response={200: list[DebateOut], **errors(404)}, auth=None
)
def debate_list(request: HttpRequest, slug: str) -> list[DebateOut]:
    now = timezone.now()
    out = []
    for debate in selectors.debates_public(municipality_or_404(slug)):
        current = selectors.phase_running(list(debate.phases.all()), now)
        out.append(
            DebateOut(
                id=debate.pk,
                question=debate.question,
                proposal_id=debate.proposal_id,
                phase=PhaseOut.of(current) if current else None,
                created_at=debate.created_at,
                contribution_count=debate.contribution_count,  # type: ignore[attr-defined]
                statement_count=debate.statement_count,  # type: ignore[attr-defined]
            )
        )
    return out


@router.get(
    "/municipalities/{slug}/debates/{debate_id}",
    response={200: DebateDetailOut, **errors(404, 422)},
    auth=None,
)
def debate_detail(request: HttpRequest, slug: str, debate_id: int) -> DebateDetailOut:
    detail = _detail(slug, debate_id)
    debate = detail.debate
    return DebateDetailOut(
        id=debate.pk,
        question=debate.question,
        background=debate.background,
        proposal_id=debate.proposal_id,
        min_age=debate.min_age,
        residence_required=debate.residence_required,
        created_at=debate.created_at,
        phase=PhaseOut.of(detail.current) if detail.current else None,
        phases=[PhaseOut.of(p) for p in detail.phases],
        conclusion=ConclusionOut.of(detail.conclusion) if detail.conclusion else None,
        opinions_computed_at=detail.snapshot.computed_at if detail.snapshot else None,
    )


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/phases",
    response={200: list[PhaseOut], **errors(404, 422)},
    auth=None,
)
def phase_list(request: HttpRequest, slug: str, debate_id: int) -> list[PhaseOut]:
    return [PhaseOut.of(p) for p in _detail(slug, debate_id).phases]


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/contributions",
    response={200: ContributionPage, **errors(404, 422)},
    auth=None,
    description=(
        "`sort`: `new`, `discussed` (most comments) or `random` (a shuffle that stays the same "
        "for you: seeded by your account, or by your session when signed out)."
    ),
)
def contribution_list(
    request: HttpRequest, slug: str, debate_id: int, query: Query[ContributionQuery]
) -> ContributionPage:
    debate = _debate(slug, debate_id)
    user = optional_user(request)
    seed = str(user.pk) if user else (request.session.session_key or "")
    contributions = selectors.contributions_public(debate, sort=query.sort, seed=seed)
    count = contributions.count()
    return ContributionPage(
        count=count,
        page=query.page,
        results=[
            ContributionOut.of(c, c.comment_count, c.reaction_count)  # type: ignore[attr-defined]
            for c in contributions[page_slice(count, query.page, PAGE_SIZE)]
        ],
    )


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/comments",
    response={200: list[CommentOut], **errors(404, 422)},
    auth=None,
)
def comment_list(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int
) -> list[CommentOut]:
    contribution = _contribution(_debate(slug, debate_id), contribution_id)
    return [
        CommentOut.of(c, [CommentOut.of(r) for r in c.replies.all()])
        for c in selectors.comments_threaded(contribution)
    ]


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/statements",
    response={200: list[StatementOut], **errors(404, 422)},
    auth=None,
    description="Published statements with vote counts overall and per opinion group.",
)
def statement_list(request: HttpRequest, slug: str, debate_id: int) -> list[StatementOut]:
    debate = _debate(slug, debate_id)
    mine = selectors.user_votes(debate, optional_user(request))
    return [
        StatementOut.of(row.statement, _groups(row), mine.get(row.statement.pk))
        for row in selectors.statements_with_counts(debate)
    ]


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/statements/next",
    response={200: list[StatementOut], **errors(404, 422)},
    auth=None,
    description="The next statements to vote on (not yet voted; rule in docs/decisions.md).",
)
def statement_next(
    request: HttpRequest, slug: str, debate_id: int, query: Query[NextQuery]
) -> list[StatementOut]:
    debate = _debate(slug, debate_id)
    return [
        StatementOut.of(s)
        for s in selectors.next_statements(debate, optional_user(request), query.n)
    ]


@router.get(
    "/municipalities/{slug}/debates/{debate_id}/report",
    response={200: ReportOut, **errors(404, 422)},
    auth=None,
    description="The latest opinion computation; 404 `no_report` before the first one.",
)
def opinion_report(request: HttpRequest, slug: str, debate_id: int) -> ReportOut:
    debate = _debate(slug, debate_id)
    snapshot = selectors.snapshot_latest(debate)
    if snapshot is None:
        raise NotFound(_("The opinion groups have not been computed yet."), code="no_report")
    result = snapshot.result
    return ReportOut(
        computed_at=snapshot.computed_at,
        participant_count=snapshot.participant_count,
        statement_count=snapshot.statement_count,
        vote_count=snapshot.vote_count,
        group_count=snapshot.group_count,
        groups=[
            GroupOut(
                group=g["group"] + 1,
                size=g["size"],
                representative=[
                    RepresentativeOut(
                        statement_id=r["statement"],
                        direction=r["direction"],
                        z=r["z"],
                        agrees=r["agrees"],
                        disagrees=r["disagrees"],
                        passes=r["passes"],
                    )
                    for r in g["representative"]
                ],
            )
            for g in result.get("groups", [])
        ],
        consensus=result.get("consensus", []),
        majority=result.get("majority", []),
        divisive=result.get("divisive", []),
        points=[
            PointOut(participant=p[0], x=p[1], y=p[2], group=p[3] + 1 if p[3] >= 0 else None)
            for p in result.get("points", [])
        ],
    )


# Taking part -------------------------------------------------------------------------------------

WRITE_ERRORS: dict[int, type[ErrorOut]] = errors(400, 401, 403, 404, 409, 422)
REASONS = (
    "403 with the reason code (`action_not_in_phase`, `phase_closed`, `not_verified`, "
    "`under_age`, `not_resident`, …); 422 for invalid input."
)


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/contributions",
    response={201: ContributionOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Post a contribution (diverge phase)",
    description=REASONS,
)
def contribute(
    request: HttpRequest, slug: str, debate_id: int, payload: ContributionIn
) -> Status[ContributionOut] | HttpResponse:
    debate = _debate(slug, debate_id)
    return idempotent(
        lambda contribution: Status(201, ContributionOut.of(contribution)),
        services.contribution_add,
        actor=auth_user(request),
        debate_id=debate.pk,
        body=payload.body,
        title=payload.title,
        category=payload.category,
    )


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Comment on a contribution, or reply to a comment (diverge phase)",
    description=REASONS + " 409 `hidden` for a hidden contribution; 422 `too_deep`.",
)
def comment(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int, payload: CommentIn
) -> Status[CommentOut] | HttpResponse:
    contribution = _contribution(_debate(slug, debate_id), contribution_id)
    return idempotent(
        lambda made: Status(201, CommentOut.of(made)),
        services.comment_add,
        actor=auth_user(request),
        contribution_id=contribution.pk,
        body=payload.body,
        parent_id=payload.parent_id,
    )


def _react(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int, on: bool
) -> ReactionOut | HttpResponse:
    contribution = _contribution(_debate(slug, debate_id), contribution_id)
    return idempotent(
        lambda changed: ReactionOut(changed=changed, reaction_count=contribution.reactions.count()),
        services.reaction_toggle,
        actor=auth_user(request),
        contribution_id=contribution.pk,
        on=on,
    )


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/reaction",
    response={200: ReactionOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Say a contribution helped you think (idempotent)",
    description=REASONS,
)
def react(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int
) -> ReactionOut | HttpResponse:
    return _react(request, slug, debate_id, contribution_id, True)


@router.delete(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/reaction",
    response={200: ReactionOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Take back your reaction (idempotent)",
)
def unreact(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int
) -> ReactionOut | HttpResponse:
    return _react(request, slug, debate_id, contribution_id, False)


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/statements/{statement_id}/vote",
    response={200: VoteOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Vote agree (1), disagree (-1) or pass (0) on a statement (converge phase)",
    description=REASONS + " A later vote replaces the earlier one.",
)
def vote(
    request: HttpRequest, slug: str, debate_id: int, statement_id: int, payload: VoteIn
) -> VoteOut | HttpResponse:
    debate = _debate(slug, debate_id)
    if selectors.statement_in(debate, statement_id) is None:
        raise NotFound(_("No such statement."))
    return idempotent(
        lambda result: VoteOut(
            statement_id=statement_id,
            value=result.value,
            previous=result.previous,
            changed=result.changed,
        ),
        services.vote_cast,
        actor=auth_user(request),
        statement_id=statement_id,
        value=payload.value,
    )


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/statements",
    response={201: StatementOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Propose a statement (converge phase); it waits for a moderator",
    description=REASONS + " 409 `duplicate_statement` or `too_many_pending`.",
)
def statement_submit(
    request: HttpRequest, slug: str, debate_id: int, payload: StatementIn
) -> Status[StatementOut] | HttpResponse:
    debate = _debate(slug, debate_id)
    return idempotent(
        lambda made: Status(201, StatementOut.of(made)),
        services.statement_submit,
        actor=auth_user(request),
        debate_id=debate.pk,
        text=payload.text,
    )


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/reports",
    response={201: ReportFiledOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Report a contribution or a comment to the moderators",
    description="Give exactly one of `contribution_id` and `comment_id`. 409 `already_reported`.",
)
def report(
    request: HttpRequest, slug: str, debate_id: int, payload: ReportIn
) -> Status[ReportFiledOut] | HttpResponse:
    debate = _debate(slug, debate_id)
    if (payload.contribution_id is None) == (payload.comment_id is None):
        raise InvalidInput(
            _("Report either a contribution or a comment."), code="one_target_required"
        )
    target: Contribution | Comment
    if payload.contribution_id is not None:
        target = _contribution(debate, payload.contribution_id)
    else:
        comment_id = payload.comment_id
        assert comment_id is not None
        found = selectors.comment_in(debate, comment_id)
        if found is None:
            raise NotFound(_("No such comment."))
        target = found
    return idempotent(
        lambda filed: Status(201, ReportFiledOut(id=filed.pk, created_at=filed.created_at)),
        services.report_file,
        actor=auth_user(request),
        target=target,
        reason=payload.reason,
    )
