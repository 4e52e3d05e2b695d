"""Reads for the debate pages, the API and the exports. Debates are public records: reading needs
no sign-in, but hidden content shows only its notice, and pending or rejected statements only to
moderators (and their author)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import MD5, Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates.models import (
    Comment,
    Conclusion,
    Contribution,
    Debate,
    OpinionSnapshot,
    Participant,
    Phase,
    Reaction,
    Report,
    Statement,
    StatementSource,
    StatementStatus,
    Vote,
)
from identity.errors import NotFound
from identity.models import Municipality, User

# Debates -----------------------------------------------------------------------------------------


def phase_running(phases: Sequence[Phase], at: datetime) -> Phase | None:
    """The phase running at `at` among already loaded phases (no query)."""
    return next((p for p in phases if p.starts_at <= at < p.ends_at), None)


def _count_of(queryset: QuerySet[Any], field: str) -> Coalesce:
    """COUNT(*) of a correlated subquery (no join fan-out when a row has several counts)."""
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def debates_public(municipality: Municipality) -> QuerySet[Debate]:
    """Every debate of the municipality, newest first, with phases prefetched (two queries) and
    `contribution_count` / `statement_count` (visible, published) annotated."""
    return (
        Debate.objects.filter(municipality=municipality)
        .annotate(
            contribution_count=_count_of(
                Contribution.objects.filter(debate=OuterRef("pk"), hidden_at__isnull=True),
                "debate",
            ),
            statement_count=_count_of(
                Statement.objects.filter(debate=OuterRef("pk"), status=StatementStatus.PUBLISHED),
                "debate",
            ),
        )
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("starts_at")))
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class DebateDetail:
    debate: Debate
    phases: list[Phase]
    current: Phase | None
    conclusion: Conclusion | None
    snapshot: OpinionSnapshot | None


def debate_detail(
    municipality: Municipality, debate_id: int, at: datetime | None = None
) -> DebateDetail:
    """A debate of `municipality` with its phases, the running phase, the conclusion and the
    latest opinion snapshot (three queries). Raises NotFound."""
    at = at or timezone.now()
    debate = (
        Debate.objects.filter(municipality=municipality, pk=debate_id)
        .select_related("municipality", "proposal", "conclusion__proposal")
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("starts_at")))
        .first()
    )
    if debate is None:
        raise NotFound(_("No such debate."))
    rows = list(debate.phases.all())
    return DebateDetail(
        debate=debate,
        phases=rows,
        current=phase_running(rows, at),
        conclusion=getattr(debate, "conclusion", None),
        snapshot=snapshot_latest(debate),
    )


def snapshot_latest(debate: Debate) -> OpinionSnapshot | None:
    return OpinionSnapshot.objects.filter(debate=debate).order_by("-computed_at", "-pk").first()


# Contributions and comments ----------------------------------------------------------------------

SORTS = ("new", "discussed", "random")


def contributions_public(
    debate: Debate, *, sort: str = "new", seed: str = ""
) -> QuerySet[Contribution]:
    """Contributions with `comment_count` (visible comments) and `reaction_count`.

    sort: ``new`` (newest first), ``discussed`` (most visible comments, then newest), ``random``
    (a shuffle that is stable for one person: ordered by md5(seed + ":" + id), so reloading keeps
    the order and different people see different orders; pass the user id or session key as
    `seed`). Hidden contributions stay in the list (the page shows the notice)."""
    if sort not in SORTS:
        raise ValueError(sort)
    queryset = (
        Contribution.objects.filter(debate=debate)
        .select_related("author")
        .annotate(
            comment_count=_count_of(
                Comment.objects.filter(contribution=OuterRef("pk"), hidden_at__isnull=True),
                "contribution",
            ),
            reaction_count=_count_of(
                Reaction.objects.filter(contribution=OuterRef("pk")), "contribution"
            ),
        )
    )
    if sort == "discussed":
        return queryset.order_by("-comment_count", "-created_at", "-pk")
    if sort == "random":
        return queryset.annotate(
            shuffle=MD5(Concat(Value(f"{seed}:"), Cast("pk", CharField())))
        ).order_by("shuffle", "pk")
    return queryset.order_by("-created_at", "-pk")


def comments_threaded(contribution: Contribution) -> list[Comment]:
    """Top-level comments in order, each with `replies` prefetched (two queries)."""
    return list(
        Comment.objects.filter(contribution=contribution, parent__isnull=True)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=Comment.objects.select_related("author").order_by("created_at", "pk"),
            )
        )
        .order_by("created_at", "pk")
    )


# Statements --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupCounts:
    group: int
    agrees: int
    disagrees: int
    passes: int

    @property
    def votes(self) -> int:
        return self.agrees + self.disagrees + self.passes


@dataclass(frozen=True)
class StatementRow:
    statement: Statement
    agrees: int
    disagrees: int
    passes: int
    groups: list[GroupCounts] = field(default_factory=list)  # from the latest snapshot
    consensus: float | None = None
    spread: float | None = None

    @property
    def votes(self) -> int:
        return self.agrees + self.disagrees + self.passes


def statements_visible(
    debate: Debate, user: User | AnonymousUser | None = None
) -> QuerySet[Statement]:
    """Published statements, plus the user's own pending or rejected ones."""
    visible = Q(status=StatementStatus.PUBLISHED)
    if user is not None and user.is_authenticated:
        visible |= Q(author=user)
    return Statement.objects.filter(debate=debate).filter(visible).order_by("created_at", "pk")


def statements_with_counts(
    debate: Debate, snapshot: OpinionSnapshot | None = None
) -> list[StatementRow]:
    """Published statements with overall agree / disagree / pass counts (live counters) and, from
    the latest snapshot, per-group counts (as of that computation). Two queries."""
    if snapshot is None:
        snapshot = snapshot_latest(debate)
    per_statement: dict[str, Any] = (
        snapshot.result.get("statements", {}) if snapshot else {}
    ) or {}
    rows = []
    for statement in (
        Statement.objects.published().filter(debate=debate).order_by("created_at", "pk")
    ):
        info = per_statement.get(str(statement.pk))
        groups = (
            [GroupCounts(g, *counts) for g, counts in enumerate(info["groups"])] if info else []
        )
        rows.append(
            StatementRow(
                statement=statement,
                agrees=statement.agree_count,
                disagrees=statement.disagree_count,
                passes=statement.pass_count,
                groups=groups,
                consensus=info["consensus"] if info else None,
                spread=info["spread"] if info else None,
            )
        )
    return rows


def user_votes(debate: Debate, user: User | AnonymousUser | None) -> dict[int, int]:
    """statement id → the user's vote (1, -1, 0) in this debate."""
    if user is None or not user.is_authenticated:
        return {}
    return dict(
        Vote.objects.filter(participant__debate=debate, participant__user=user).values_list(
            "statement_id", "value"
        )
    )


def participant_of(debate: Debate, user: User | AnonymousUser | None) -> Participant | None:
    if user is None or not user.is_authenticated:
        return None
    return Participant.objects.filter(debate=debate, user=user).first()


# Votes at which a statement counts as half "new" (the novelty term halves every NOVELTY_HALF).
NOVELTY_HALF = 5.0
UNKNOWN_INFORMATIVENESS = 0.5


def _stable_hash(seed: str, statement_id: int) -> str:
    return hashlib.sha256(f"{seed}:{statement_id}".encode()).hexdigest()


def next_statements(
    debate: Debate, user: User | AnonymousUser | None, n: int = 1
) -> list[Statement]:
    """The next `n` statements to show this person (rule in docs/decisions.md, "Which statement
    comes next"): published statements they have not voted on, by priority

        novelty + informativeness,  novelty = 2 ** (-votes / 5),
        informativeness = max(consensus, spread) from the latest snapshot (0.5 if not in it)

    highest first, ties broken by sha256(person seed + statement id), so the order is
    deterministic for one person and differs between people. Three queries."""
    if n <= 0:
        return []
    voted = set(user_votes(debate, user)) if user is not None else set()
    candidates = [
        s
        for s in Statement.objects.published().filter(debate=debate).order_by("pk")
        if s.pk not in voted
    ]
    if not candidates:
        return []
    snapshot = snapshot_latest(debate)
    info: dict[str, Any] = (snapshot.result.get("statements", {}) if snapshot else {}) or {}
    seed = str(user.pk) if user is not None and user.is_authenticated else "anonymous"

    def priority(statement: Statement) -> tuple[float, str]:
        novelty = math.pow(2.0, -statement.vote_count / NOVELTY_HALF)
        known = info.get(str(statement.pk))
        informativeness = (
            max(float(known["consensus"]), float(known["spread"]))
            if known
            else UNKNOWN_INFORMATIVENESS
        )
        return (-(novelty + informativeness), _stable_hash(seed, statement.pk))

    return sorted(candidates, key=priority)[:n]


# The report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportGroup:
    group: int
    size: int
    representative: list[tuple[Statement, dict[str, Any]]]


@dataclass(frozen=True)
class OpinionReport:
    snapshot: OpinionSnapshot
    groups: list[ReportGroup]
    consensus: list[Statement]
    majority: list[Statement]
    divisive: list[Statement]
    points: list[list[Any]]  # [token, x, y, group]


def opinion_report(debate: Debate) -> OpinionReport | None:
    """The latest snapshot with its statement ids resolved (two queries), or None."""
    snapshot = snapshot_latest(debate)
    if snapshot is None:
        return None
    result = snapshot.result
    by_id = {s.pk: s for s in Statement.objects.filter(debate=debate)}

    def resolve(ids: list[int]) -> list[Statement]:
        return [by_id[i] for i in ids if i in by_id]

    groups = [
        ReportGroup(
            group=g["group"],
            size=g["size"],
            representative=[
                (by_id[r["statement"]], r) for r in g["representative"] if r["statement"] in by_id
            ],
        )
        for g in result.get("groups", [])
    ]
    return OpinionReport(
        snapshot=snapshot,
        groups=groups,
        consensus=resolve(result.get("consensus", [])),
        majority=resolve(result.get("majority", [])),
        divisive=resolve(result.get("divisive", [])),
        points=list(result.get("points", [])),
    )


# Moderation --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModerationQueue:
    pending_statements: list[Statement]
    open_reports: list[Report]

    def __len__(self) -> int:
        return len(self.pending_statements) + len(self.open_reports)


def moderation_queue(debate: Debate) -> ModerationQueue:
    """Pending statements (oldest first) and open reports (oldest first), two queries. Callers
    check `permissions.can_moderate` first."""
    pending = list(
        Statement.objects.filter(debate=debate, status=StatementStatus.PENDING)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    reports = list(
        Report.objects.open()
        .filter(Q(contribution__debate=debate) | Q(comment__contribution__debate=debate))
        .select_related("reporter", "contribution", "comment__contribution")
        .order_by("created_at", "pk")
    )
    return ModerationQueue(pending_statements=pending, open_reports=reports)


# Lookups for the pages and the API: one row of a debate, or None --------------------------------


def debate_in(municipality: Municipality, debate_id: int) -> Debate | None:
    return (
        Debate.objects.select_related("municipality", "proposal")
        .filter(pk=debate_id, municipality=municipality)
        .first()
    )


def phases_of(debate: Debate) -> list[Phase]:
    return list(Phase.objects.filter(debate=debate).order_by("starts_at", "pk"))


def contribution_in(debate: Debate, contribution_id: int) -> Contribution | None:
    return (
        Contribution.objects.select_related("author")
        .filter(pk=contribution_id, debate=debate)
        .first()
    )


def comment_in(debate: Debate, comment_id: int) -> Comment | None:
    return (
        Comment.objects.select_related("contribution__debate__municipality")
        .filter(pk=comment_id, contribution__debate=debate)
        .first()
    )


def statement_in(debate: Debate, statement_id: int) -> Statement | None:
    return Statement.objects.filter(pk=statement_id, debate=debate).first()


def report_in(debate: Debate, report_id: int) -> Report | None:
    return Report.objects.filter(
        Q(contribution__debate=debate) | Q(comment__contribution__debate=debate), pk=report_id
    ).first()


def conclusion_of(debate: Debate) -> Conclusion | None:
    return Conclusion.objects.filter(debate=debate).select_related("proposal").first()


# The contribution listing's extras ---------------------------------------------------------------


def comments_of_contributions(contribution_ids: list[int]) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(contribution_id__in=contribution_ids)
        .select_related("author")
        .order_by("created_at", "pk")
    )


def reacted_contributions(user: User, contribution_ids: list[int]) -> set[int]:
    """Which of these contributions the person marked as helpful."""
    return set(
        Reaction.objects.filter(user=user, contribution_id__in=contribution_ids).values_list(
            "contribution_id", flat=True
        )
    )


def contribution_categories(debate: Debate) -> list[str]:
    return list(
        Contribution.objects.filter(debate=debate)
        .exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def contributions_mergeable(debate: Debate) -> QuerySet[Contribution]:
    return Contribution.objects.filter(debate=debate, hidden_at__isnull=True).order_by("pk")


# Statements ---------------------------------------------------------------------------------------


def statements_published(debate: Debate) -> QuerySet[Statement]:
    return Statement.objects.filter(debate=debate, status=StatementStatus.PUBLISHED)


def statements_pending_of(debate: Debate, user: User) -> list[Statement]:
    """The person's own statements not (yet) published: only they and moderators see them."""
    return list(
        Statement.objects.filter(debate=debate, author=user)
        .exclude(status=StatementStatus.PUBLISHED)
        .order_by("created_at", "pk")
    )


def statements_for_moderation(debate: Debate) -> list[Statement]:
    return list(
        Statement.objects.filter(debate=debate)
        .select_related("author")
        .order_by("status", "created_at", "pk")
    )


# The public exports -------------------------------------------------------------------------------


def statement_sources(debate: Debate) -> dict[int, list[int]]:
    """Statement id → the contributions it was made from, in id order."""
    sources: dict[int, list[int]] = {}
    for statement_id, contribution_id in (
        StatementSource.objects.filter(statement__debate=debate)
        .order_by("statement_id", "contribution_id")
        .values_list("statement_id", "contribution_id")
    ):
        sources.setdefault(statement_id, []).append(contribution_id)
    return sources


def published_statement_ids(debate: Debate) -> list[int]:
    return list(
        Statement.objects.published()
        .filter(debate=debate)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def votes_by_participant(statement_ids: Sequence[int]) -> QuerySet[Vote, tuple[str, int, int]]:
    """(participant token, statement id, value), grouped by the participant's random token, so
    the order says nothing about who voted first."""
    return (
        Vote.objects.filter(statement_id__in=list(statement_ids))
        .order_by("participant__token", "statement_id")
        .values_list("participant__token", "statement_id", "value")
    )


@dataclass(frozen=True)
class VoteTotals:
    statements: int
    votes: int
    participants: int


def vote_totals(debate: Debate) -> VoteTotals:
    """Published statements, votes on them, and the people who voted at all."""
    counts = (
        Statement.objects.published()
        .filter(debate=debate)
        .aggregate(n=Count("pk", distinct=True), votes=Count("votes"))
    )
    participants = (
        Participant.objects.filter(debate=debate).filter(Q(votes__isnull=False)).distinct().count()
    )
    return VoteTotals(counts["n"], counts["votes"], participants)
