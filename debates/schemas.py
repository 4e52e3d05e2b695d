"""The debates API's request and response shapes (django-ninja schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from debates.models import Comment, Conclusion, Contribution, Phase, Statement


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
