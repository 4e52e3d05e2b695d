"""Accounts, municipalities, roles and the audit log: what every other app stands on."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractUser):
    """An account. It says nothing about residence: that is a verification (identity issue)."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=60, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def public_name(self) -> str:
        """What others may see: never the e-mail address."""
        return self.display_name or str(_("Resident #%(id)s") % {"id": self.pk})


class Municipality(models.Model):
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name (Japanese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    code = models.CharField(
        _("local government code"),
        max_length=6,
        unique=True,
        help_text=_("The six-digit 全国地方公共団体コード."),
    )
    host = models.CharField(
        _("host name"),
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The municipality's own host name, e.g. participate.city.example.jp."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ("code",)
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="municipality_code_six_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "ja").startswith("en") else self.name

    @property
    def home_url(self) -> str:
        return f"//{self.host}/" if self.host else f"/m/{self.slug}/"


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    COUNCIL = "council", _("Council")
    ELECTION_OFFICE = "election_office", _("Election office")
    MODERATOR = "moderator", _("Moderator")
    COUNTER_CLERK = "counter_clerk", _("Counter clerk")


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def active(self) -> RoleAssignmentQuerySet:
        return self.filter(revoked_at__isnull=True)


class RoleAssignment(models.Model):
    """A role held in one municipality. Revoking keeps the row, so history stays readable."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_assignments")
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality", "role"],
                condition=Q(revoked_at__isnull=True),
                name="role_assignment_one_active",
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="role_assignment_role_known"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.municipality}"


class AuditEntry(models.Model):
    """One append-only line of the audit log.

    Writers insert freely (no shared row is touched); a sealer later gives committed entries their
    place `seq` in the chain of their municipality and links them by hash. See docs/decisions.md,
    "Audit log without a hot row".
    """

    SITE_CHAIN = "site"

    chain = models.CharField(_("chain"), max_length=24, editable=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    entry_hash = models.CharField(max_length=64, editable=False)
    seq = models.BigIntegerField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    chain_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_chain_seq_unique"),
            models.CheckConstraint(
                condition=Q(seq__isnull=True) | Q(seq__gte=1), name="audit_entry_seq_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "-created_at"]),
            models.Index(fields=["chain", "seq"]),
            models.Index(
                fields=["chain", "id"], condition=Q(seq__isnull=True), name="audit_entry_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action}"


class AuditCheckpoint(models.Model):
    """The head of a chain after a seal: seq and hash, published so truncation is detectable."""

    chain = models.CharField(max_length=24)
    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_checkpoint_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"
