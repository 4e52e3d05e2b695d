"""Permission predicates. Each returns a Decision with a stable reason code, so a page or the
API can say *why* something is refused; nothing else in the project decides access on its own."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity.errors import PermissionDenied
from identity.models import Municipality, Role, RoleAssignment, User, Verification

REASONS: dict[str, Promise] = {
    "ok": _("Allowed."),
    "not_signed_in": _("Please sign in first."),
    "no_municipality": _("Choose a municipality first."),
    "role_required": _("This page is for staff of this municipality with the right role."),
    "mfa_required": _(
        "Staff pages need two-step verification. Set up an authenticator app to continue."
    ),
    "last_administrator": _(
        "A municipality must keep at least one administrator. Appoint another one first."
    ),
    "account_inactive": _("This account is not active."),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str = "ok"

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def message(self) -> Promise:
        return REASONS[self.code]


ALLOW = Decision(True)


def require(decision: Decision) -> None:
    """Turn a refusal into the domain error services raise."""
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)


def deny(code: str) -> Decision:
    assert code in REASONS, code
    return Decision(False, code)


STAFF_ROLES: frozenset[str] = frozenset(Role.values)


def roles_held(user: User | AnonymousUser, municipality: Municipality) -> frozenset[str]:
    """Active roles of `user` in `municipality`, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cache: dict[int, frozenset[str]] = user.__dict__.setdefault("_mebuku_roles", {})
    if municipality.pk not in cache:
        cache[municipality.pk] = frozenset(
            RoleAssignment.objects.active()
            .filter(user=user, municipality=municipality)
            .values_list("role", flat=True)
        )
    return cache[municipality.pk]


def forget_roles(user: User | AnonymousUser) -> None:
    """Drop the cached roles, e.g. once a service holds the lock under which they may change."""
    user.__dict__.pop("_mebuku_roles", None)


def mfa_passed(user: User | AnonymousUser) -> Decision:
    """Signed in, active, with two-step verification: allauth then asked for the second factor at
    sign-in. Every staff role, debate moderators and the site operator (Django admin) pass this."""
    if not user.is_authenticated:
        return deny("not_signed_in")
    if not user.is_active:
        return deny("account_inactive")
    if not is_mfa_enabled(user):
        return deny("mfa_required")
    return ALLOW


def staff_access(
    user: User | AnonymousUser,
    municipality: Municipality | None,
    roles: Collection[str] = STAFF_ROLES,
) -> Decision:
    """May `user` open a staff page of `municipality` that needs one of `roles`?"""
    if not user.is_authenticated:
        return deny("not_signed_in")
    if not user.is_active:
        return deny("account_inactive")
    if municipality is None:
        return deny("no_municipality")
    if not roles_held(user, municipality) & set(roles):
        return deny("role_required")
    if not is_mfa_enabled(user):
        return deny("mfa_required")
    return ALLOW


def can_open_staff_dashboard(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality)


def can_manage_roles(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ADMINISTRATOR})


def can_view_audit_log(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ADMINISTRATOR})


def can_revoke_role(user: User | AnonymousUser, assignment: RoleAssignment) -> Decision:
    decision = can_manage_roles(user, assignment.municipality)
    if not decision:
        return decision
    if assignment.role == Role.ADMINISTRATOR:
        admins = RoleAssignment.objects.active().filter(
            municipality=assignment.municipality, role=Role.ADMINISTRATOR
        )
        if admins.count() <= 1:
            return deny("last_administrator")
    return ALLOW


def can_verify_at_counter(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality, {Role.COUNTER_CLERK, Role.ADMINISTRATOR})


def can_manage_register(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ADMINISTRATOR, Role.ELECTION_OFFICE})


def can_manage_identity_provider(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality, {Role.ADMINISTRATOR})


def can_revoke_verification(user: User | AnonymousUser, verification: Verification) -> Decision:
    return can_verify_at_counter(user, verification.municipality)
