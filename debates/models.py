"""Debates: a question, phases with dates, and the diverge phase's contributions, comments,
reactions and reports. What each phase kind allows lives in `debates.phases`."""

from __future__ import annotations

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
