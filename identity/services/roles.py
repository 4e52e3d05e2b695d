"""Municipalities, roles and profiles."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.idempotency import stores_answer
from identity.models import Municipality, Role, RoleAssignment, User

MUNICIPALITY_EDITABLE = (
    "slug",
    "name",
    "name_en",
    "code",
    "host",
    "is_active",
    "verification_valid_days",
    # Decides a direct demand's collection period (proposals.legal_calendar).
    "kind",
)
ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")
# Only a superuser may make or unmake staff and superusers.
_OPERATOR_FLAGS = frozenset({"is_staff", "is_superuser"})


# Not durable: the Django admin calls these inside the transaction it opens for every change
# page, so the row and its audit entry still commit together (docs/decisions.md).
@transaction.atomic
def municipality_create(
    *, actor: User | None, slug: str, name: str, name_en: str, code: str, host: str | None = None
) -> Municipality:
    """Site operators add municipalities (command line or Django admin), not municipal staff."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(_("Only the site operator can add a municipality."))
    if Municipality.objects.filter(slug=slug).exists():
        raise Conflict(_("A municipality with this slug exists already."), code="slug_taken")
    municipality = Municipality(slug=slug, name=name, name_en=name_en, code=code, host=host or None)
    municipality.full_clean()
    municipality.save(force_insert=True)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="municipality.create",
        target=municipality,
        data={"slug": slug, "name": name, "name_en": name_en, "code": code, "host": host},
    )
    return municipality


@transaction.atomic
def municipality_update(
    *, actor: User, municipality_id: int, values: dict[str, Any]
) -> Municipality:
    """The site operator changes a municipality (Django admin); each changed field is audited
    with its old and new value."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only the site operator can change a municipality."))
    unknown = set(values) - set(MUNICIPALITY_EDITABLE)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
        )
    locked = Municipality.objects.select_for_update().filter(pk=municipality_id).first()
    if locked is None:
        raise NotFound(_("No such municipality."))
    if "host" in values:
        values = {**values, "host": values["host"] or None}
    changes = {
        field: {"old": getattr(locked, field), "new": new}
        for field, new in values.items()
        if getattr(locked, field) != new
    }
    if not changes:
        return locked
    for field in changes:
        setattr(locked, field, values[field])
    try:
        locked.full_clean()
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), code="invalid_municipality") from error
    locked.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        municipality=locked,
        action="municipality.change",
        target=locked,
        data=changes,
    )
    return locked


@transaction.atomic
def account_flags_set(*, actor: User, user_id: int, flags: dict[str, bool]) -> User:
    """Turn an account's active, staff or superuser flag on or off (Django admin): each change
    goes to the site chain of the audit log, since these flags open the admin itself."""
    unknown = set(flags) - set(ACCOUNT_FLAGS)
    if unknown:
        raise InvalidInput(_("Unknown account flag."), code="unknown_flag")
    if not actor.is_staff:
        raise PermissionDenied(_("Only the site operator can change an account's flags."))
    locked = User.objects.select_for_update().filter(pk=user_id).first()
    if locked is None:
        raise NotFound(_("No such account."))
    changes = {
        flag: {"old": getattr(locked, flag), "new": value}
        for flag, value in flags.items()
        if getattr(locked, flag) != value
    }
    if not changes:
        return locked
    if _OPERATOR_FLAGS & set(changes) and not actor.is_superuser:
        raise PermissionDenied(
            _("Only a superuser can make or unmake staff and superusers."), code="not_superuser"
        )
    for flag in changes:
        setattr(locked, flag, flags[flag])
    locked.save(update_fields=list(changes))
    audit_record(
        actor=actor, municipality=None, action="account.flags_change", target=locked, data=changes
    )
    return locked


@transaction.atomic(durable=True)
@stores_answer
def role_grant(
    *, actor: User | None, municipality: Municipality, email: str, role: str
) -> RoleAssignment:
    """Grant `role` in `municipality` to the account with `email`.

    `actor=None` is the system itself (bootstrapping the first administrator from the command line).
    """
    if actor is not None:
        permissions.require(permissions.can_manage_roles(actor, municipality))
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), code="unknown_role")
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise NotFound(_("No active account has this e-mail address."), code="user_not_found")
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, municipality=municipality, role=role, granted_by=actor
            )
    except IntegrityError:
        raise Conflict(_("This person already holds this role."), code="role_held") from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="role.grant",
        target=assignment,
        data={"user": user.pk, "role": role},
    )
    return assignment


@transaction.atomic(durable=True)
@stores_answer
def role_revoke(
    *, actor: User | None, assignment_id: int, municipality: Municipality
) -> RoleAssignment:
    if actor is not None:
        permissions.require(permissions.can_manage_roles(actor, municipality))
    # Lock the municipality first (always the same order) so two administrators revoking each
    # other at once cannot leave it with none.
    Municipality.objects.select_for_update().get(pk=municipality.pk)
    assignment = (
        RoleAssignment.objects.select_for_update()
        .filter(pk=assignment_id, municipality=municipality)
        .select_related("municipality", "user")
        .first()
    )
    if assignment is None:
        raise NotFound(_("No such role assignment in this municipality."))
    if assignment.revoked_at is not None:
        raise Conflict(_("This role was revoked already."), code="already_revoked")
    if actor is not None:
        permissions.forget_roles(actor)
        permissions.require(permissions.can_revoke_role(actor, assignment))
    assignment.revoked_at = timezone.now()
    assignment.revoked_by = actor
    assignment.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="role.revoke",
        target=assignment,
        data={"user": assignment.user_id, "role": assignment.role},
    )
    return assignment


@transaction.atomic(durable=True)
def profile_update(*, actor: User, display_name: str) -> User:
    display_name = display_name.strip()
    if len(display_name) > 60:
        raise InvalidInput(_("The display name can be at most 60 characters."))
    user = User.objects.select_for_update().get(pk=actor.pk)
    old = user.display_name
    if old == display_name:
        return user
    user.display_name = display_name
    user.save(update_fields=["display_name"])
    audit_record(
        actor=actor,
        municipality=None,
        action="account.profile_update",
        target=user,
        # That it changed, not the names: the audit log is append-only and cannot be erased
        # when the person deletes their account.
        data={"changed": ["display_name"]},
    )
    return user


@transaction.atomic(durable=True)
def municipality_settings_update(
    *, actor: User, municipality: Municipality, verification_valid_days: int
) -> Municipality:
    """The municipality's administrator sets how long a resident verification stays valid."""
    permissions.require(permissions.can_manage_roles(actor, municipality))
    if not 30 <= verification_valid_days <= 3650:
        raise InvalidInput(
            _("A verification can be valid for 30 to 3,650 days."), code="valid_days_range"
        )
    locked = Municipality.objects.select_for_update().get(pk=municipality.pk)
    old = locked.verification_valid_days
    if old == verification_valid_days:
        return locked
    locked.verification_valid_days = verification_valid_days
    locked.save(update_fields=["verification_valid_days"])
    audit_record(
        actor=actor,
        municipality=locked,
        action="municipality.settings_update",
        target=locked,
        data={"verification_valid_days": {"old": old, "new": verification_valid_days}},
    )
    return locked
