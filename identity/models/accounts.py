"""Accounts, municipalities and roles: what every other app stands on."""

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
    counter_municipality = models.ForeignKey(
        "identity.Municipality",
        verbose_name=_("created at the counter of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The municipality whose counter created this account; empty if made online."),
    )
    # Set when the person deleted their account: the row stays as a tombstone without personal
    # data, because audit entries and legal acts (signatures, ballots) refer to its id.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        if self.erased_at is not None:
            return str(_("Former user"))
        return self.display_name or self.email

    @property
    def public_name(self) -> str:
        """What others may see: never the e-mail address."""
        if self.erased_at is not None:
            return str(_("Former user"))
        return self.display_name or str(_("Resident #%(id)s") % {"id": self.pk})


class MunicipalityKind(models.TextChoices):
    """What the Local Autonomy Act distinguishes: prefectures and designated cities (政令指定都市)
    collect direct-demand signatures for two months, other municipalities for one."""

    MUNICIPALITY = "municipality", _("City, town or village")
    DESIGNATED_CITY = "designated_city", _("Designated city")
    PREFECTURE = "prefecture", _("Prefecture")


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
    kind = models.CharField(
        _("kind of local government"),
        max_length=16,
        choices=MunicipalityKind.choices,
        default=MunicipalityKind.MUNICIPALITY,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    verification_valid_days = models.PositiveIntegerField(
        _("verification valid for (days)"),
        default=365 * 3,
        help_text=_("How long a resident verification stays valid before it must be renewed."),
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ("code",)
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="municipality_code_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=MunicipalityKind.values), name="municipality_kind_known"
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
