"""Elections, their questions, trustees, voter rolls, encrypted ballots, tally and the record.

The cryptography lives in `voting.election` (no Django); these models hold what the server keeps.
Invariants are database constraints: one counted ballot per voter (partial unique index), unique
trackers across cast *and* audited ballots (one table), one roll entry per person and election.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Municipality, User, VerificationMethod


def all_methods() -> list[str]:
    return list(VerificationMethod.values)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FROZEN = "frozen", _("Frozen (roll and keys fixed)")
    CLOSED = "closed", _("Closed")
    TALLIED = "tallied", _("Tallied, awaiting the trustees")
    PUBLISHED = "published", _("Results published")


class Phase(models.TextChoices):
    """What a voter sees: the stored status refined by the clock while frozen."""

    DRAFT = "draft", _("In preparation")
    SCHEDULED = "scheduled", _("Voting has not started yet")
    OPEN = "open", _("Voting is open")
    CLOSED = "closed", _("Voting has closed")
    TALLIED = "tallied", _("Counting")
    PUBLISHED = "published", _("Results published")


class Election(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="elections"
    )
    title = models.CharField(_("title"), max_length=200)
    explanation = models.TextField(_("explanation"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    opens_at = models.DateTimeField(_("voting opens at"))
    closes_at = models.DateTimeField(_("voting closes at"))
    # The eligibility rule (identity.eligibility.EligibilityRule), judged at the close of voting,
    # i.e. age on polling day.
    min_age = models.PositiveSmallIntegerField(_("minimum age on polling day"), default=18)
    register_date = models.DateField(_("resident on (register date)"), null=True, blank=True)
    methods = models.JSONField(_("accepted verification methods"), default=all_methods)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(null=True, blank=True)
    # election, group, trustees, joint_public_key, election_hash: fixed at freezing.
    header = models.JSONField(null=True, blank=True)
    election_hash = models.CharField(max_length=64, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    tallied_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="election_period_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(header__isnull=False) & ~Q(election_hash="")),
                name="election_frozen_has_header",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def phase(self, now: datetime | None = None) -> str:
        if self.status != Status.FROZEN:
            return {
                Status.DRAFT: Phase.DRAFT,
                Status.CLOSED: Phase.CLOSED,
                Status.TALLIED: Phase.TALLIED,
                Status.PUBLISHED: Phase.PUBLISHED,
            }[Status(self.status)].value
        now = now or timezone.now()
        if now < self.opens_at:
            return Phase.SCHEDULED.value
        if now < self.closes_at:
            return Phase.OPEN.value
        return Phase.CLOSED.value

    def is_open(self, now: datetime | None = None) -> bool:
        return self.phase(now) == Phase.OPEN


class Question(models.Model):
    """One question; options are [{"id", "text"}] in order. Yes/no is min 1, max 1 of yes/no."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    qid = models.CharField(max_length=20)
    text = models.TextField(_("question"))
    options = models.JSONField()
    min_selections = models.PositiveSmallIntegerField(default=0)
    max_selections = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["election_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["election", "position"], name="question_position"),
            models.UniqueConstraint(fields=["election", "qid"], name="question_qid"),
            models.CheckConstraint(
                condition=Q(min_selections__lte=models.F("max_selections"))
                & Q(max_selections__gte=1),
                name="question_selection_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "text": self.text,
            "min_selections": self.min_selections,
            "max_selections": self.max_selections,
            "options": [{"id": o["id"], "text": o["text"]} for o in self.options],
        }


class Trustee(models.Model):
    """A person holding one share of the election key. Only the public key reaches the server."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="trustees")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="trusteeships")
    tid = models.CharField(max_length=20)
    appointed_at = models.DateTimeField(default=timezone.now)
    public_key = models.TextField(blank=True)
    pok = models.JSONField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["election_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["election", "user"], name="trustee_once"),
            models.UniqueConstraint(fields=["election", "tid"], name="trustee_tid"),
            models.CheckConstraint(
                condition=Q(uploaded_at__isnull=True) | (~Q(public_key="") & Q(pok__isnull=False)),
                name="trustee_key_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.election_id}/{self.tid}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.tid, "public_key": self.public_key, "pok": self.pok}


class RollEntry(models.Model):
    """A voter on the frozen roll. `alias` (keyed hash) is all the public record shows."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="roll")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="roll_entries")
    person_key = models.CharField(max_length=64)
    alias = models.CharField(max_length=64, unique=True)
    age_bracket = models.CharField(max_length=8, blank=True)
    method = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["election_id", "alias"]
        verbose_name_plural = _("roll entries")
        constraints = [
            models.UniqueConstraint(fields=["election", "person_key"], name="roll_person_once"),
            models.UniqueConstraint(fields=["election", "user"], name="roll_user_once"),
        ]

    def __str__(self) -> str:
        return self.alias


class RollExclusion(models.Model):
    """Someone verified in the municipality whom the rule left off the roll, with the reason code
    (identity.eligibility.REASONS). Office-only."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="exclusions")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)

    class Meta:
        ordering = ["election_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["election", "user"], name="roll_exclusion_once"),
        ]

    def __str__(self) -> str:
        return f"{self.election_id}/{self.user_id}: {self.code}"


class BallotKind(models.TextChoices):
    CAST = "cast", _("Cast")
    AUDITED = "audited", _("Audited (spoiled)")


class BallotQuerySet(models.QuerySet["Ballot"]):
    def cast(self) -> BallotQuerySet:
        return self.filter(kind=BallotKind.CAST)

    def counted(self) -> BallotQuerySet:
        return self.filter(kind=BallotKind.CAST, superseded=False)

    def audited(self) -> BallotQuerySet:
        return self.filter(kind=BallotKind.AUDITED)


class Ballot(models.Model):
    """An encrypted ballot as received: cast (counted unless superseded) or audited (Benaloh).

    Cast and audited ballots share this table so that one unique index on `tracker` makes an
    audited ballot impossible to cast, whatever the order or timing of the two requests.
    """

    id = models.BigAutoField(primary_key=True)
    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="ballots")
    roll_entry = models.ForeignKey(RollEntry, on_delete=models.PROTECT, related_name="ballots")
    kind = models.CharField(max_length=8, choices=BallotKind.choices, default=BallotKind.CAST)
    content = models.JSONField()  # {"alias", "answers"} exactly as received
    tracker = models.CharField(max_length=64, unique=True)
    cast_at = models.DateTimeField()
    superseded = models.BooleanField(default=False)
    # Audited ballots only: the revealed randomness ([{"question", "randomness": [hex]}]) and the
    # selections it proves ({question id: [option ids]}).
    randomness = models.JSONField(null=True, blank=True)
    selections = models.JSONField(null=True, blank=True)

    objects = BallotQuerySet.as_manager()

    class Meta:
        ordering = ["cast_at", "id"]
        indexes = [models.Index(fields=["election", "cast_at", "id"], name="ballot_board")]
        constraints = [
            models.UniqueConstraint(
                fields=["roll_entry"],
                condition=Q(kind="cast", superseded=False),
                name="ballot_one_counted_per_voter",
            ),
            models.CheckConstraint(
                condition=(Q(kind="cast") & Q(randomness__isnull=True))
                | (Q(kind="audited") & Q(randomness__isnull=False) & Q(superseded=False)),
                name="ballot_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.tracker

    @property
    def counted(self) -> bool:
        return self.kind == BallotKind.CAST and not self.superseded


class EncryptedTally(models.Model):
    election = models.OneToOneField(Election, on_delete=models.CASCADE, related_name="tally")
    tally = models.JSONField()  # the record's encrypted_tally
    ballots_counted = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"tally of {self.election_id}"


class DecryptionShare(models.Model):
    """One trustee's decryption factors with proofs, checked on upload."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="decryptions")
    trustee = models.OneToOneField(Trustee, on_delete=models.CASCADE, related_name="decryption")
    factors = models.JSONField()  # the record's decryptions entry
    verified = models.BooleanField(default=False)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(verified=True), name="decryption_verified_only"),
        ]

    def __str__(self) -> str:
        return f"decryption of {self.trustee_id}"


class Result(models.Model):
    """Published counts and the complete election record, always written together."""

    election = models.OneToOneField(Election, on_delete=models.CASCADE, related_name="result")
    counts = models.JSONField()  # the record's results: [{"question", "counts"}]
    ballots_counted = models.PositiveIntegerField()
    roll_size = models.PositiveIntegerField()
    record = models.JSONField()
    record_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"result of {self.election_id}"

    @property
    def turnout(self) -> float:
        return self.ballots_counted / self.roll_size if self.roll_size else 0.0
