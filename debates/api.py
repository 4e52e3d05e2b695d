"""Debates in the JSON API: the public record (debates, phases, contributions, comments,
statements, the opinion report) and taking part (contribute, comment, react, vote, propose a
statement, report content). Domain errors become `{"code", "message"}` with 403 (with the reason
code), 404, 409 or 422 through the API's handler."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from debates import selectors, services
from debates.models import (
    Comment,
    Conclusion,
    Contribution,
    Debate,
    Phase,
    Statement,
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

router = Router(tags=["debates"])

PAGE_SIZE = 50


# Schemas -----------------------------------------------------------------------------------------


class PhaseOut(Schema):
    id: int
    kind: str = Field(description="`diverge`, `converge` or `conclude`.")
    name: str
    starts_at: datetime
    ends_at: datetime

    @staticmethod
    def of(phase: Phase) -> PhaseOut:
        from debates.phases import phase_kind

        return PhaseOut(
            id=phase.pk,
            kind=phase.kind,
            name=str(phase_kind(phase.kind).name),
            starts_at=phase.starts_at,
            ends_at=phase.ends_at,
        )


class DebateOut(Schema):
    id: int
    question: str
    proposal_id: int | None
    phase: PhaseOut | None = Field(description="The phase running now, if any.")
    created_at: datetime
    contribution_count: int
    statement_count: int


class ConclusionOut(Schema):
    summary: str
    outcome: str
    published_at: datetime
    updated_at: datetime
    proposal_id: int | None

    @staticmethod
    def of(conclusion: Conclusion) -> ConclusionOut:
        return ConclusionOut(
            summary=conclusion.summary,
            outcome=conclusion.outcome,
            published_at=conclusion.published_at,
            updated_at=conclusion.updated_at,
            proposal_id=conclusion.proposal_id,
        )


class DebateDetailOut(Schema):
    id: int
    question: str
    background: str
    proposal_id: int | None
    min_age: int
    residence_required: bool
    created_at: datetime
    phase: PhaseOut | None
    phases: list[PhaseOut]
    conclusion: ConclusionOut | None
    opinions_computed_at: datetime | None


class ContributionOut(Schema):
    id: int
    author: str = Field(description="The author's display name.")
    title: str
    body: str = Field(description="Empty when hidden; see `hidden_notice`.")
    category: str
    created_at: datetime
    hidden: bool
    hidden_notice: str
    comment_count: int
    reaction_count: int

    @staticmethod
    def of(c: Contribution, comments: int = 0, reactions: int = 0) -> ContributionOut:
        return ContributionOut(
            id=c.pk,
            author=c.author.display_name,
            title="" if c.is_hidden else c.title,
            body="" if c.is_hidden else c.body,
            category=c.category,
            created_at=c.created_at,
            hidden=c.is_hidden,
            hidden_notice=c.hidden_notice(),
            comment_count=comments,
            reaction_count=reactions,
        )


class ContributionPage(Schema):
    count: int
    page: int
    results: list[ContributionOut]


class CommentOut(Schema):
    id: int
    parent_id: int | None
    author: str
    body: str
    created_at: datetime
    hidden: bool
    hidden_notice: str
    replies: list[CommentOut] = []

    @staticmethod
    def of(comment: Comment, replies: list[CommentOut] | None = None) -> CommentOut:
        return CommentOut(
            id=comment.pk,
            parent_id=comment.parent_id,
            author=comment.author.display_name,
            body="" if comment.is_hidden else comment.body,
            created_at=comment.created_at,
            hidden=comment.is_hidden,
            hidden_notice=comment.hidden_notice(),
            replies=replies or [],
        )


class GroupCountsOut(Schema):
    group: int = Field(description="Opinion group, numbered from 1.")
    agrees: int
    disagrees: int
    passes: int


class StatementOut(Schema):
    id: int
    text: str
    origin: str
    status: str
    created_at: datetime
    agrees: int
    disagrees: int
    passes: int
    groups: list[GroupCountsOut] = Field(
        default_factory=list, description="Per group, as of the latest opinion computation."
    )
    my_vote: int | None = Field(None, description="Your vote (1, -1, 0) when signed in.")

    @staticmethod
    def of(
        s: Statement, groups: list[GroupCountsOut] | None = None, my_vote: int | None = None
    ) -> StatementOut:
        return StatementOut(
            id=s.pk,
            text=s.text,
            origin=s.origin,
            status=s.status,
            created_at=s.created_at,
            agrees=s.agree_count,
            disagrees=s.disagree_count,
            passes=s.pass_count,
            groups=groups or [],
            my_vote=my_vote,
        )


class RepresentativeOut(Schema):
    statement_id: int
    direction: str
    z: float
    agrees: int
    disagrees: int
    passes: int


class GroupOut(Schema):
    group: int = Field(description="Numbered from 1.")
    size: int
    representative: list[RepresentativeOut]


class PointOut(Schema):
    participant: str = Field(description="Random per-debate id.")
    x: float
    y: float
    group: int | None = Field(description="Numbered from 1; null when not grouped.")


class ReportOut(Schema):
    computed_at: datetime
    participant_count: int
    statement_count: int
    vote_count: int
    group_count: int
    groups: list[GroupOut]
    consensus: list[int] = Field(description="Statement ids every group tends to agree with.")
    majority: list[int]
    divisive: list[int]
    points: list[PointOut]


class ContributionIn(Schema):
    title: str = Field("", max_length=120)
    body: str = Field(max_length=10_000)
    category: str = Field("", max_length=40)


class CommentIn(Schema):
    body: str = Field(max_length=4_000)
    parent_id: int | None = None


class VoteIn(Schema):
    value: Literal[-1, 0, 1] = Field(description="1 agree, -1 disagree, 0 pass.")


class VoteOut(Schema):
    statement_id: int
    value: int
    previous: int | None
    changed: bool


class StatementIn(Schema):
    text: str = Field(max_length=300)


class ReactionOut(Schema):
    changed: bool
    reaction_count: int


class ReportIn(Schema):
    contribution_id: int | None = None
    comment_id: int | None = None
    reason: str = Field(max_length=500)


class ReportFiledOut(Schema):
    id: int
    created_at: datetime


class ContributionQuery(Schema):
    sort: str = Field("new", pattern="^(new|discussed|random)$")
    page: int = Field(1, ge=1)


class NextQuery(Schema):
    n: int = Field(5, ge=1, le=50)


# Helpers -----------------------------------------------------------------------------------------


def _detail(slug: str, debate_id: int) -> selectors.DebateDetail:
    return selectors.debate_detail(municipality_or_404(slug), debate_id)


def _debate(slug: str, debate_id: int) -> Debate:
    debate = Debate.objects.filter(municipality=municipality_or_404(slug), pk=debate_id).first()
    if debate is None:
        raise NotFound(_("No such debate."))
    return debate


def _contribution(debate: Debate, contribution_id: int) -> Contribution:
    contribution = (
        Contribution.objects.select_related("author")
        .filter(debate=debate, pk=contribution_id)
        .first()
    )
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
) -> Status[ContributionOut]:
    debate = _debate(slug, debate_id)
    contribution = services.contribution_add(
        actor=auth_user(request),
        debate_id=debate.pk,
        body=payload.body,
        title=payload.title,
        category=payload.category,
    )
    return Status(201, ContributionOut.of(contribution))


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Comment on a contribution, or reply to a comment (diverge phase)",
    description=REASONS + " 409 `hidden` for a hidden contribution; 422 `too_deep`.",
)
def comment(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int, payload: CommentIn
) -> Status[CommentOut]:
    contribution = _contribution(_debate(slug, debate_id), contribution_id)
    made = services.comment_add(
        actor=auth_user(request),
        contribution_id=contribution.pk,
        body=payload.body,
        parent_id=payload.parent_id,
    )
    return Status(201, CommentOut.of(made))


def _react(
    request: HttpRequest, slug: str, debate_id: int, contribution_id: int, on: bool
) -> ReactionOut:
    contribution = _contribution(_debate(slug, debate_id), contribution_id)
    changed = services.reaction_toggle(
        actor=auth_user(request), contribution_id=contribution.pk, on=on
    )
    return ReactionOut(changed=changed, reaction_count=contribution.reactions.count())


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/reaction",
    response={200: ReactionOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Say a contribution helped you think (idempotent)",
    description=REASONS,
)
def react(request: HttpRequest, slug: str, debate_id: int, contribution_id: int) -> ReactionOut:
    return _react(request, slug, debate_id, contribution_id, True)


@router.delete(
    "/municipalities/{slug}/debates/{debate_id}/contributions/{contribution_id}/reaction",
    response={200: ReactionOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Take back your reaction (idempotent)",
)
def unreact(request: HttpRequest, slug: str, debate_id: int, contribution_id: int) -> ReactionOut:
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
) -> VoteOut:
    debate = _debate(slug, debate_id)
    if not Statement.objects.filter(pk=statement_id, debate=debate).exists():
        raise NotFound(_("No such statement."))
    result = services.vote_cast(
        actor=auth_user(request), statement_id=statement_id, value=payload.value
    )
    return VoteOut(
        statement_id=statement_id,
        value=result.value,
        previous=result.previous,
        changed=result.changed,
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
) -> Status[StatementOut]:
    debate = _debate(slug, debate_id)
    made = services.statement_submit(
        actor=auth_user(request), debate_id=debate.pk, text=payload.text
    )
    return Status(201, StatementOut.of(made))


@router.post(
    "/municipalities/{slug}/debates/{debate_id}/reports",
    response={201: ReportFiledOut, **WRITE_ERRORS},
    auth=AUTH,
    summary="Report a contribution or a comment to the moderators",
    description="Give exactly one of `contribution_id` and `comment_id`. 409 `already_reported`.",
)
def report(
    request: HttpRequest, slug: str, debate_id: int, payload: ReportIn
) -> Status[ReportFiledOut]:
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
        found = (
            Comment.objects.select_related("contribution__debate__municipality")
            .filter(pk=comment_id, contribution__debate=debate)
            .first()
        )
        if found is None:
            raise NotFound(_("No such comment."))
        target = found
    filed = services.report_file(actor=auth_user(request), target=target, reason=payload.reason)
    return Status(201, ReportFiledOut(id=filed.pk, created_at=filed.created_at))
