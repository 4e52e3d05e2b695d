"""Resident verification: who is a verified resident of which municipality, since when, how.

Names, birthdates and addresses live only here; other apps learn eligibility facts (yes/no, age
bracket, method) through identity.eligibility.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models.accounts import Municipality, User


class VerificationMethod(models.TextChoices):
    OIDC = "oidc", _("Municipal ID (OpenID Connect)")
    REGISTER = "register", _("Resident register match")
    COUNTER = "counter", _("At the counter")


class DocumentType(models.TextChoices):
    MY_NUMBER_CARD = "my_number_card", _("My Number Card")
    DRIVERS_LICENSE = "drivers_license", _("Driver's licence")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    HEALTH_INSURANCE = "health_insurance", _("Health insurance card (with a second document)")
    OTHER = "other", _("Other official document")


class EndReason(models.TextChoices):
    RENEWED = "renewed", _("Renewed")
    MOVED_OUT = "moved_out", _("Moved out")
    ERROR = "error", _("Recorded in error")
    DECEASED = "deceased", _("Deceased")
    USER_REQUEST = "user_request", _("At the person's request")


class VerificationQuerySet(models.QuerySet["Verification"]):
    def active(self) -> VerificationQuerySet:
        """Not ended (it may still have expired: expiry is a matter of time, judged at use)."""
        return self.filter(ended_at__isnull=True)


class Verification(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="verifications")
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="verifications"
    )
    method = models.CharField(_("method"), max_length=16, choices=VerificationMethod.choices)
    # HMAC of the method's stable key (OIDC subject, register key, or the person key at the
    # counter): one active verification per key, enforced below.
    identity_hash = models.CharField(max_length=64, editable=False)
    # HMAC of normalised name|birthdate|address, the same for every method, so one person cannot
    # hold two verifications through two methods.
    person_hash = models.CharField(max_length=64, editable=False)
    legal_name = models.CharField(_("name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    address = models.CharField(_("address"), max_length=200)
    resident_since = models.DateField(_("resident since"), null=True, blank=True)
    document_type = models.CharField(
        _("identity document checked"), max_length=24, choices=DocumentType.choices, blank=True
    )
    verified_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    renews = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewed_by"
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(_("reason"), max_length=16, choices=EndReason.choices, blank=True)
    end_note = models.CharField(_("note"), max_length=200, blank=True)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "identity_hash"],
                condition=Q(ended_at__isnull=True),
                name="verification_one_active_per_identity",
            ),
            models.UniqueConstraint(
                fields=["municipality", "person_hash"],
                condition=Q(ended_at__isnull=True),
                name="verification_one_active_per_person",
            ),
            models.UniqueConstraint(
                fields=["user", "municipality"],
                condition=Q(ended_at__isnull=True),
                name="verification_one_active_per_account",
            ),
            models.CheckConstraint(
                condition=Q(method__in=VerificationMethod.values), name="verification_method_known"
            ),
            models.CheckConstraint(
                condition=~Q(method=VerificationMethod.COUNTER) | ~Q(document_type=""),
                name="verification_counter_records_document",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("verified_at")),
                name="verification_expires_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, end_reason="")
                | Q(ended_at__isnull=False) & ~Q(end_reason=""),
                name="verification_end_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "user"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.municipality} · {self.method}"


class ResidentRegister(models.Model):
    """One uploaded version of the resident register; only the current one is matched against."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="registers"
    )
    reference_date = models.DateField(_("reference date"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    imported_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    row_count = models.PositiveIntegerField(_("rows"))
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        verbose_name = _("resident register")
        verbose_name_plural = _("resident registers")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality"],
                condition=Q(is_current=True),
                name="resident_register_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} register of {self.reference_date}"


class RegisterEntry(models.Model):
    """A register row reduced to keyed hashes: the plain register is never stored."""

    register = models.ForeignKey(ResidentRegister, on_delete=models.CASCADE, related_name="entries")
    key_hash = models.CharField(max_length=64)
    person_hash = models.CharField(max_length=64)
    resident_since = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("register entry")
        verbose_name_plural = _("register entries")
        constraints = [
            models.UniqueConstraint(fields=["register", "key_hash"], name="register_entry_key"),
            models.UniqueConstraint(
                fields=["register", "person_hash"], name="register_entry_person"
            ),
        ]

    def __str__(self) -> str:
        return self.key_hash[:12]
