"""Debates: a question, phases with dates, the diverge phase's contributions, comments, reactions
and reports, the converge phase's statements, votes and opinion snapshots, and the conclusion.
What each phase kind allows lives in `debates.phases`."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates import phases
from identity.models import Municipality, User
from proposals.models import Proposal

# Comments are threaded two levels deep: a comment on a contribution, and replies to it.
MAX_COMMENT_DEPTH = 2


class Debate(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="debates")
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, null=True, blank=True, related_name="debates"
    )
    question = models.CharField(_("question"), max_length=200)
    background = models.TextField(_("background material (Markdown)"), blank=True)
    # Who may take part: the shared eligibility rule (reading is public).
    min_age = models.PositiveSmallIntegerField(_("minimum participant age"), default=18)
    residence_required = models.BooleanField(_("residents only"), default=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Set by the first vote after the last opinion computation; cleared by the task that claims
    # the recomputation (so many votes give one computation).
    opinions_dirty_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("debate")
        verbose_name_plural = _("debates")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.question


class DebateModerator(models.Model):
    debate = models.ForeignKey(Debate, on_delete=models.CASCADE, related_name="moderators")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("debate moderator")
        verbose_name_plural = _("debate moderators")
        constraints = [
            models.UniqueConstraint(fields=["debate", "user"], name="debate_moderator_once"),
        ]

    def __str__(self) -> str:
        return f"{self.debate_id}:{self.user_id}"


class Phase(models.Model):
    """One dated phase. Consecutive phases meet exactly (checked by `phases_set`)."""

    debate = models.ForeignKey(Debate, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(_("kind"), max_length=20, choices=phases.CHOICES)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # When the start of this phase was broadcast (`phase_changed`), so it is announced once.
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["debate", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="phase_ends_after_start"
            ),
            models.UniqueConstraint(fields=["debate", "starts_at"], name="phase_start_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"

    def allows(self, action: str) -> bool:
        return phases.phase_allows(self.kind, action)


def hidden_consistent(prefix: str) -> models.CheckConstraint:
    """Hidden content has a time and a reason; visible content has neither nor a hider."""
    return models.CheckConstraint(
        condition=(
            Q(hidden_at__isnull=True, hidden_reason="", hidden_by__isnull=True)
            | (Q(hidden_at__isnull=False) & ~Q(hidden_reason=""))
        ),
        name=f"{prefix}_hidden_consistent",
    )


class Hideable(models.Model):
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    def hidden_notice(self) -> str:
        """What readers see instead of hidden content."""
        if not self.is_hidden:
            return ""
        return str(_("hidden by moderator: %(reason)s")) % {"reason": self.hidden_reason}


class Contribution(Hideable):
    debate = models.ForeignKey(Debate, on_delete=models.PROTECT, related_name="contributions")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120, blank=True)
    body = models.TextField(_("text"))
    category = models.CharField(_("category"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ["-created_at", "-pk"]
        constraints = [hidden_consistent("contribution")]

    def __str__(self) -> str:
        return self.title or self.body[:40]


class Comment(Hideable):
    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, related_name="comments"
    )
    # Depth ≤ MAX_COMMENT_DEPTH is enforced by `comment_add`.
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        constraints = [hidden_consistent("comment")]

    def __str__(self) -> str:
        return self.body[:40]


class Reaction(models.Model):
    """'This helped me think': one per person and contribution."""

    contribution = models.ForeignKey(
        Contribution, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(fields=["contribution", "user"], name="reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contribution_id}:{self.user_id}"


class ReportQuerySet(models.QuerySet["Report"]):
    def open(self) -> ReportQuerySet:
        return self.filter(resolved_at__isnull=True)


class Report(models.Model):
    """A report of a contribution or a comment; open reports form the moderation queue."""

    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(contribution__isnull=False, comment__isnull=True)
                    | Q(contribution__isnull=True, comment__isnull=False)
                ),
                name="report_one_target",
            ),
            models.UniqueConstraint(
                fields=["reporter", "contribution"],
                condition=Q(resolved_at__isnull=True, contribution__isnull=False),
                name="report_open_once_contribution",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(resolved_at__isnull=True, comment__isnull=False),
                name="report_open_once_comment",
            ),
        ]

    def __str__(self) -> str:
        return self.reason[:40]

    @property
    def target(self) -> Contribution | Comment:
        target = self.contribution if self.contribution_id is not None else self.comment
        assert target is not None
        return target


# Converge ----------------------------------------------------------------------------------------


def participant_token() -> str:
    """A random pseudonym (48 bits, hex) for one person in one debate."""
    return secrets.token_hex(6)


class Participant(models.Model):
    """A person in one debate's converge phase. `token` is the random id that stands for them in
    the opinion map and the anonymised vote export; it says nothing about who they are."""

    debate = models.ForeignKey(Debate, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # The eligibility person key: one person with two accounts is still one participant.
    person_key = models.CharField(max_length=64, editable=False)
    token = models.CharField(max_length=16, default=participant_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["debate", "user"], name="participant_once"),
            models.UniqueConstraint(
                fields=["debate", "person_key"], name="participant_person_once"
            ),
            models.UniqueConstraint(fields=["debate", "token"], name="participant_token_unique"),
        ]

    def __str__(self) -> str:
        return self.token


class StatementStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a moderator")
    PUBLISHED = "published", _("published")
    REJECTED = "rejected", _("rejected")


class StatementOrigin(models.TextChoices):
    MODERATOR = "moderator", _("written by a moderator")
    PARTICIPANT = "participant", _("proposed by a participant")


STATEMENT_MAX_LENGTH = 300


class StatementQuerySet(models.QuerySet["Statement"]):
    def published(self) -> StatementQuerySet:
        return self.filter(status=StatementStatus.PUBLISHED)


class Statement(models.Model):
    """A short statement people vote agree, disagree or pass on. Moderators write them (often by
    merging similar contributions, kept as `sources`); participants may propose them, and those
    wait for a moderator. Vote counts are counters kept by `vote_cast` (never COUNT(*) on pages)."""

    debate = models.ForeignKey(Debate, on_delete=models.PROTECT, related_name="statements")
    text = models.CharField(_("statement"), max_length=STATEMENT_MAX_LENGTH)
    origin = models.CharField(_("origin"), max_length=12, choices=StatementOrigin.choices)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=StatementStatus.choices,
        default=StatementStatus.PENDING,
    )
    moderation_reason = models.CharField(_("moderation reason"), max_length=300, blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sources = models.ManyToManyField(
        Contribution, through="StatementSource", related_name="statements", blank=True
    )
    agree_count = models.PositiveIntegerField(default=0)
    disagree_count = models.PositiveIntegerField(default=0)
    pass_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(status=StatementStatus.PENDING, moderated_at__isnull=True)
                    | Q(status=StatementStatus.PUBLISHED, moderated_at__isnull=False)
                    | (
                        Q(status=StatementStatus.REJECTED, moderated_at__isnull=False)
                        & ~Q(moderation_reason="")
                    )
                ),
                name="statement_moderation_consistent",
            ),
            models.CheckConstraint(
                condition=Q(status__in=StatementStatus.values), name="statement_status_known"
            ),
        ]
        indexes = [models.Index(fields=["debate", "status"], name="statement_debate_status")]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def vote_count(self) -> int:
        return self.agree_count + self.disagree_count + self.pass_count


class StatementSource(models.Model):
    """A contribution a statement was drawn from (the link survives edits and merges)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="+")
    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("statement source")
        verbose_name_plural = _("statement sources")
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "contribution"], name="statement_source_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.contribution_id}"


class VoteValue(models.IntegerChoices):
    AGREE = 1, _("agree")
    DISAGREE = -1, _("disagree")
    PASS = 0, _("pass")


VOTE_COUNTER = {
    VoteValue.AGREE: "agree_count",
    VoteValue.DISAGREE: "disagree_count",
    VoteValue.PASS: "pass_count",
}


class Vote(models.Model):
    """One participant's current vote on one statement (changeable; the change is audited)."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="votes")
    value = models.SmallIntegerField(_("vote"), choices=VoteValue.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["statement", "participant"], name="vote_once"),
            models.CheckConstraint(condition=Q(value__in=(-1, 0, 1)), name="vote_value_known"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.participant_id}={self.value}"


class OpinionSnapshot(models.Model):
    """One run of `debates.opinion.compute_opinions` over a debate's votes, as the report shows it.

    `result` (JSON, statements by id, people by participant token) holds: ``points``
    ``[[token, x, y, group], ...]`` (group -1: too few votes to be grouped), ``groups``
    ``[{"group", "size", "representative": [{"statement", "direction", "z", "rate_in_group",
    "rate_rest", "agrees", "disagrees", "passes"}]}]``, ``statements`` ``{id: {"agree_rate",
    "consensus", "spread", "groups": [[agrees, disagrees, passes] per group]}}``, ``consensus``,
    ``majority`` and ``divisive`` (statement ids, best first), ``k``, ``silhouette_by_k``,
    ``explained_variance_ratio``."""

    debate = models.ForeignKey(Debate, on_delete=models.CASCADE, related_name="opinion_snapshots")
    computed_at = models.DateTimeField(default=timezone.now)
    participant_count = models.PositiveIntegerField(default=0)
    statement_count = models.PositiveIntegerField(default=0)
    vote_count = models.PositiveIntegerField(default=0)
    group_count = models.PositiveSmallIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    result = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("opinion snapshot")
        verbose_name_plural = _("opinion snapshots")
        ordering = ["-computed_at", "-pk"]
        get_latest_by = ["computed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.debate_id}@{self.computed_at:%Y-%m-%d %H:%M}"


# Conclude ----------------------------------------------------------------------------------------


class Conclusion(models.Model):
    """The moderators' published summary and outcome; optionally the proposal it led to."""

    debate = models.OneToOneField(Debate, on_delete=models.CASCADE, related_name="conclusion")
    summary = models.TextField(_("summary (Markdown)"))
    outcome = models.TextField(_("outcome"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debate_conclusions",
    )

    class Meta:
        verbose_name = _("conclusion")
        verbose_name_plural = _("conclusions")

    def __str__(self) -> str:
        return self.outcome[:40]
