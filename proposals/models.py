"""Proposal types (the ordinance's rules), proposals, signatures and the public timeline."""

from __future__ import annotations

import math
import unicodedata
import uuid
from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.eligibility import TOKYO
from identity.models import Municipality, User

# Dropped before matching: hyphens and dashes (Wi-Fi = WiFi = wifi) and the long-vowel mark
# (コンピューター = コンピュータ); NFKC has already made ｰ into ー and full-width － into -.
_FOLDED_AWAY = dict.fromkeys(map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"))
# Hiragana to katakana (ぁ..ゖ → ァ..ヶ, ゝゞ → ヽヾ): ほいくえん finds ホイクエン and the reverse.
_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def normalize_search(text: str) -> str:
    """The one form in which both the stored search text and a query are compared: NFKC (full-
    and half-width alike), case-folded, without hyphens or long-vowel marks, hiragana as
    katakana, single spaces. Plain Python, so it works the same on PostgreSQL and SQLite."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.translate(_FOLDED_AWAY).translate(_KATAKANA)
    return " ".join(folded.split())


class ThresholdKind(models.TextChoices):
    FIXED = "fixed", _("A fixed number of signatures")
    REGISTER_FRACTION = "register_fraction", _("A fraction of the electoral register")


class ProposalType(models.Model):
    """What an ordinance requires of one kind of proposal in one municipality."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="proposal_types"
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    threshold_kind = models.CharField(
        _("threshold"), max_length=20, choices=ThresholdKind.choices, default=ThresholdKind.FIXED
    )
    threshold_fixed = models.PositiveIntegerField(_("signatures required"), null=True, blank=True)
    threshold_numerator = models.PositiveIntegerField(_("fraction numerator"), default=1)
    threshold_denominator = models.PositiveIntegerField(_("fraction denominator"), default=50)
    # Entered by the election office; the threshold is ceil(register_size × fraction).
    register_size = models.PositiveIntegerField(_("electoral register size"), null=True, blank=True)
    register_date = models.DateField(_("register reference date"), null=True, blank=True)
    collection_days = models.PositiveIntegerField(
        _("collection period (days)"), null=True, blank=True
    )
    collection_until = models.DateField(_("collection ends on"), null=True, blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum signer age"), default=18)
    accepts_online = models.BooleanField(_("online signatures"), default=True)
    accepts_counter = models.BooleanField(_("signatures at the counter"), default=True)
    accepts_paper = models.BooleanField(_("paper signature sheets"), default=False)
    committee_size = models.PositiveSmallIntegerField(
        _("promoters' committee size"), default=0, help_text=_("0 when no committee is required.")
    )
    certification_required = models.BooleanField(
        _("the election office certifies the count"), default=False
    )
    answer_deadline_days = models.PositiveIntegerField(
        _("council answer deadline (days)"), default=90
    )
    inspection_days = models.PositiveSmallIntegerField(
        _("public inspection period (days)"), default=7
    )
    signatures_withdrawable = models.BooleanField(
        _("signers may withdraw while collection is open"), default=True
    )
    is_active = models.BooleanField(_("open for new proposals"), default=True)
    # A demand under art. 74 of the Local Autonomy Act (条例の制定改廃の直接請求): the law, not the
    # ordinance, sets its collection period, blackout, collectors and the election office's check.
    direct_demand = models.BooleanField(
        _("direct demand under the Local Autonomy Act (art. 74)"),
        default=False,
        help_text=_(
            "The law sets the collection period (one month; two in prefectures and designated "
            "cities), the blackout before elections and the registered collectors."
        ),
    )
    # How long the signatory list keeps names and accounts after the procedure ended (see
    # docs/privacy.md): long enough for objections, review requests and a court challenge.
    signatory_retention_days = models.PositiveIntegerField(
        _("signatory data kept for (days after the procedure ends)"),
        default=90,
        help_text=_(
            "After this many days, signatures keep counting but no longer lead to a name, "
            "address or account."
        ),
    )

    class Meta:
        verbose_name = _("proposal type")
        verbose_name_plural = _("proposal types")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name"], name="proposal_type_name"),
            models.CheckConstraint(
                condition=~Q(threshold_kind=ThresholdKind.FIXED) | Q(threshold_fixed__gte=1),
                name="proposal_type_fixed_threshold_set",
            ),
            models.CheckConstraint(
                condition=Q(threshold_denominator__gte=1) & Q(threshold_numerator__gte=1),
                name="proposal_type_fraction_positive",
            ),
            models.CheckConstraint(
                condition=Q(collection_days__isnull=False) | Q(collection_until__isnull=False),
                name="proposal_type_collection_period_set",
            ),
            models.CheckConstraint(
                condition=Q(accepts_online=True) | Q(accepts_counter=True) | Q(accepts_paper=True),
                name="proposal_type_some_channel",
            ),
            # The law makes the election office check the signature sheets (art. 74-2), and the
            # sheets are paper.
            models.CheckConstraint(
                condition=Q(direct_demand=False)
                | Q(certification_required=True, accepts_paper=True),
                name="proposal_type_direct_demand_certified_on_paper",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def threshold(self) -> int | None:
        """Signatures needed now; None while the register size has not been entered."""
        if self.threshold_kind == ThresholdKind.FIXED:
            return self.threshold_fixed
        if not self.register_size:
            return None
        return math.ceil(self.register_size * self.threshold_numerator / self.threshold_denominator)

    def channels(self) -> list[str]:
        accepted = {
            SignatureChannel.ONLINE: self.accepts_online,
            SignatureChannel.COUNTER: self.accepts_counter,
            SignatureChannel.PAPER: self.accepts_paper,
        }
        return [channel for channel, on in accepted.items() if on]


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMMITTEE = "committee", _("Forming the promoters' committee")
    COLLECTING = "collecting", _("Collecting signatures")
    THRESHOLD_REACHED = "threshold_reached", _("Threshold reached")
    CERTIFICATION = "certification", _("Being certified by the election office")
    NOT_CERTIFIED = "not_certified", _("Not certified")
    SUBMITTED = "submitted", _("Submitted to the council")
    UNDER_REVIEW = "under_review", _("Under review by the council")
    ANSWERED = "answered", _("Answered by the council")
    EXPIRED = "expired", _("Expired below the threshold")
    WITHDRAWN = "withdrawn", _("Withdrawn by the author")


SIGNABLE = (Status.COLLECTING, Status.THRESHOLD_REACHED)


class Proposal(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="proposals"
    )
    type = models.ForeignKey(ProposalType, on_delete=models.PROTECT, related_name="proposals")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=400)
    body = models.TextField(_("proposal (Markdown)"))
    category = models.CharField(_("category"), max_length=40, blank=True)
    location = models.CharField(_("location"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Set when collection opens, from the type: later changes to the type do not move the goal.
    threshold = models.PositiveIntegerField(_("signatures required"), null=True, blank=True)
    # The hot counter: bumped with UPDATE … RETURNING as the last statement of a signature, read by
    # every page instead of COUNT(*).
    signature_count = models.PositiveIntegerField(_("signatures"), default=0)
    collection_opens_at = models.DateTimeField(null=True, blank=True)
    collection_closes_at = models.DateTimeField(null=True, blank=True)
    threshold_reached_at = models.DateTimeField(null=True, blank=True)
    certified_count = models.PositiveIntegerField(null=True, blank=True)
    inspection_ends_at = models.DateTimeField(null=True, blank=True)
    # Direct demands: when the election office issued the representative's certificate
    # (代表者証明書); collectors and collection need it.
    certificate_issued_at = models.DateTimeField(null=True, blank=True)
    # The last day of the election office's check of the sheets (art. 74-2: 20 days).
    check_due_on = models.DateField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answer_due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # NFKC-normalised, lower-cased title, summary, body and category: substring search finds
    # 子育て inside 子育て支援 without a Japanese tokenizer (see docs/decisions.md).
    search_text = models.TextField(editable=False, default="")
    # When the retention task removed the signatories' personal data (proposals.services.retention).
    signatories_purged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="proposal_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status=Status.DRAFT) | Q(status=Status.COMMITTEE) | Q(threshold__gte=1),
                name="proposal_threshold_set_once_collecting",
            ),
            models.CheckConstraint(
                condition=Q(collection_closes_at__isnull=True)
                | Q(collection_closes_at__gt=F("collection_opens_at")),
                name="proposal_collection_period_positive",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "status", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def refresh_search_text(self) -> None:
        self.search_text = normalize_search(
            " ".join((self.title, self.summary, self.body, self.category, self.location))
        )

    def is_collecting(self, at: object = None) -> bool:
        now = at or timezone.now()
        return (
            self.status in SIGNABLE
            and self.collection_closes_at is not None
            and now < self.collection_closes_at  # type: ignore[operator]
        )

    def last_signing_day(self) -> date | None:
        """The last calendar day in Japan on which a signature is still taken (the day of the
        closing time, or the day before when collection closes at midnight)."""
        if self.collection_closes_at is None:
            return None
        return (self.collection_closes_at - timedelta(microseconds=1)).astimezone(TOKYO).date()

    def days_left(self, at: datetime | None = None) -> int | None:
        """Calendar days in Japan from today to the last signing day shown beside the count:
        opened today for 30 days → 30; on the last day → 0 ("closes today"); None once closed."""
        now = at or timezone.now()
        last = self.last_signing_day()
        if last is None or not self.is_collecting(now):
            return None
        return (last - now.astimezone(TOKYO).date()).days


class SignatureChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("At the counter")
    PAPER = "paper", _("Paper sheet")


class InvalidReason(models.TextChoices):
    NOT_ON_REGISTER = "not_on_register", _("Not on the register at the reference date")
    DUPLICATE = "duplicate", _("Duplicate")
    ILLEGIBLE = "illegible", _("Illegible paper entry")
    UNDER_AGE = "under_age", _("Under age")
    OTHER = "other", _("Other")


class Signature(models.Model):
    """One person's support. No name or address here: `person_key` is identity's opaque key."""

    # Looked up by proposal through the (proposal, signed_at) index below: a second index on
    # the proposal alone would only cost every signature one more index insert.
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    person_key = models.CharField(max_length=64)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=SignatureChannel.choices)
    age_bracket = models.CharField(max_length=10)
    method = models.CharField(max_length=16, blank=True)
    verification_id = models.BigIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    sheet = models.CharField(_("sheet"), max_length=40, blank=True)
    # A paper row is traced back to its sheet, row and collector when it is rejected.
    sheet_row = models.PositiveSmallIntegerField(_("row"), null=True, blank=True)
    collector = models.ForeignKey(
        "Collector", on_delete=models.PROTECT, null=True, blank=True, related_name="signatures"
    )
    # The date the signer wrote on the row (署名年月日); the entry's own time is `signed_at`.
    written_on = models.DateField(_("date of signing"), null=True, blank=True)
    signed_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    invalid_reason = models.CharField(max_length=20, choices=InvalidReason.choices, blank=True)
    # Set when the signer's account and verification were unlinked (account deleted, or the
    # retention period ended): the signature still counts under `person_key`.
    signer_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "person_key"],
                condition=Q(withdrawn_at__isnull=True),
                name="signature_once_per_person",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=SignatureChannel.values), name="signature_channel_known"
            ),
            models.CheckConstraint(
                condition=~Q(channel=SignatureChannel.ONLINE)
                | Q(user__isnull=False)
                | Q(signer_erased_at__isnull=False),
                name="signature_online_has_user_until_erased",
            ),
            models.CheckConstraint(
                condition=Q(channel=SignatureChannel.ONLINE) | Q(entered_by__isnull=False),
                name="signature_offline_has_clerk",
            ),
            models.CheckConstraint(
                condition=Q(channel=SignatureChannel.PAPER)
                | Q(collector__isnull=True, sheet_row__isnull=True),
                name="signature_collector_and_row_on_paper_only",
            ),
            # One row of one sheet is one signature, whatever became of it.
            models.UniqueConstraint(
                fields=["proposal", "sheet", "sheet_row"],
                condition=Q(sheet_row__isnull=False),
                name="signature_sheet_row_once",
            ),
        ]
        indexes = [
            models.Index(fields=["proposal", "signed_at"]),
            # Only clerks' entries have a clerk: online signatures add nothing to this index.
            models.Index(
                fields=["entered_by"],
                condition=Q(entered_by__isnull=False),
                name="signature_entered_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.pk}"


class TimelineEvent(models.Model):
    """The public history of a proposal, shown on its page with dates."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="timeline")
    status = models.CharField(max_length=20, choices=Status.choices)
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("at", "id")
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.status}"


# Until collection opens the text may change (proposals.services.proposal_edit).
EDITABLE = (Status.DRAFT, Status.COMMITTEE)
# How people name the parts of the text (in edit errors and on the timeline).
PART_LABELS = {
    "title": _("Title"),
    "summary": _("Summary"),
    "body": _("Proposal"),
    "category": _("Category"),
    "location": _("Location"),
}


class ProposalRevision(models.Model):
    """One edit of a proposal's text before collection opened. Holds the text the edit replaced
    (the current text is on the proposal), so every earlier version can be read back; the public
    timeline says when the text changed and which parts."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    edited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)
    changed = models.JSONField(default=list)
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=400)
    body = models.TextField(_("proposal (Markdown)"))
    category = models.CharField(_("category"), max_length=40, blank=True)
    location = models.CharField(_("location"), max_length=120, blank=True)

    class Meta:
        ordering = ("proposal", "number")
        verbose_name = _("proposal revision")
        verbose_name_plural = _("proposal revisions")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="proposal_revision_once"),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="proposal_revision_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} r{self.number}"


class Follow(models.Model):
    """A resident asked for e-mail on threshold, council answer and expiry."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="follow_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.proposal_id}"


class Notification(models.Model):
    """One e-mail per person and event: the unique row is claimed before sending, so a retried
    task never mails anyone twice."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=20)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user", "event"], name="notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event}:{self.user_id}"


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Invited, not yet answered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class CommitteeMember(models.Model):
    """A named promoter: invited by the author, counted once they accept. A declined invitation
    stays, so the author cannot invite the same person to the same proposal again."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="committee")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=10, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    invited_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="committee_member_once"),
            models.CheckConstraint(
                condition=Q(state__in=InvitationState.values),
                name="committee_member_state_known",
            ),
            # Each answer has its time, and only its own.
            models.CheckConstraint(
                condition=Q(
                    state=InvitationState.PENDING,
                    confirmed_at__isnull=True,
                    declined_at__isnull=True,
                )
                | Q(
                    state=InvitationState.ACCEPTED,
                    confirmed_at__isnull=False,
                    declined_at__isnull=True,
                )
                | Q(
                    state=InvitationState.DECLINED,
                    confirmed_at__isnull=True,
                    declined_at__isnull=False,
                ),
                name="committee_member_state_times",
            ),
        ]
        indexes = [
            # My account lists a person's pending invitations.
            models.Index(
                fields=["user"],
                condition=Q(state="pending"),
                name="committee_member_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.user_id}"


class Objection(models.Model):
    """Filed during the public inspection of a certified count; answered by the election office."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="objections")
    filed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    filed_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"objection {self.pk}"


class Decision(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    PARTIALLY_ADOPTED = "partially_adopted", _("Partially adopted")
    NOT_ADOPTED = "not_adopted", _("Not adopted")


class CouncilAnswer(models.Model):
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="answer")
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    reasons = models.TextField(_("reasons (Markdown)"))
    answered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="council_answer_decision_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.decision}"


def council_document_path(document: CouncilDocument, filename: str) -> str:
    """Where the storage keeps a document: a random name under the proposal, so nothing the
    uploader wrote (a path, a Japanese name, a double extension) ever reaches the storage; the
    name they gave is kept in `original_name` for the download."""
    extension = DOCUMENT_EXTENSIONS.get(document.content_type, "bin")
    return (
        f"council/{document.proposal.municipality_id}/{document.proposal_id}/"
        f"{uuid.uuid4().hex}.{extension}"
    )


# The types a council document may have, judged by its first bytes (never by its name).
DOCUMENT_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class CouncilDocument(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="documents")
    title = models.CharField(_("title"), max_length=120)
    file = models.FileField(_("file"), upload_to=council_document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=120, blank=True)
    content_type = models.CharField(max_length=40, default="application/pdf")
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=list(DOCUMENT_EXTENSIONS)),
                name="council_document_type_known",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def kind(self) -> str:
        """PDF, PNG or JPEG: said beside the link, so nobody opens a file blind."""
        return DOCUMENT_EXTENSIONS.get(self.content_type, "").replace("jpg", "jpeg").upper()


class Collector(models.Model):
    """A collector (受任者) whom the representative appointed to gather signatures on paper for a
    direct demand (Local Autonomy Act art. 74 (8)). Revoked collectors stay on the list, so the
    sheets they carried can still be traced to them."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="collectors")
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    appointed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    appointed_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("proposal", "number")
        verbose_name = _("collector")
        verbose_name_plural = _("collectors")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="collector_number_once"),
            models.UniqueConstraint(
                fields=["proposal", "name", "address"],
                condition=Q(revoked_at__isnull=True),
                name="collector_appointed_once",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="collector_number_positive"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("appointed_at")),
                name="collector_revoked_after_appointed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    def active_on(self, day: date) -> bool:
        """Whether the collector held the appointment on `day` (a calendar day in Japan)."""
        if self.appointed_at.astimezone(TOKYO).date() > day:
            return False
        return self.revoked_at is None or self.revoked_at.astimezone(TOKYO).date() >= day


class CollectionBlackout(models.Model):
    """Days on which no signature for a direct demand may be sought in the municipality, because
    an election is coming (Local Autonomy Act art. 74 (7)): entered by the election office,
    calendar days in Japan, both ends included."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="collection_blackouts"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("municipality", "starts_on", "id")
        verbose_name = _("collection blackout")
        verbose_name_plural = _("collection blackouts")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="collection_blackout_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}–{self.ends_on} {self.reason}"
