"""Reads that enforce visibility: everything here is scoped to one municipality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from time import monotonic

from django.db.models import QuerySet
from django.utils import timezone

from identity.models import AuditEntry, Municipality, RoleAssignment, User, Verification


def municipalities_public() -> QuerySet[Municipality]:
    return Municipality.objects.filter(is_active=True).order_by("code")


def municipality_by_slug(slug: str) -> Municipality | None:
    return municipalities_public().filter(slug=slug).first()


_TTL_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, Municipality | None]] = {}


def municipality_cache_peek(field: str, value: str) -> tuple[bool, Municipality | None]:
    """`(True, municipality or None)` when `municipality_cached` would answer from its cache,
    `(False, None)` when it would ask the database. No I/O: async code (the middleware under ASGI)
    takes a fresh answer on the event loop and runs the lookup in a thread only on a miss."""
    hit = _cache.get((field, value))
    if hit is not None and monotonic() - hit[0] < _TTL_SECONDS:
        return True, hit[1]
    return False, None


def municipality_cached(field: str, value: str) -> Municipality | None:
    """The active municipality with this `host` or `slug`, from a short per-process cache: every
    request needs it (middleware, API paths) and municipalities change rarely. Treat the result as
    read-only; it is shared between requests."""
    key = (field, value)
    hit = _cache.get(key)
    now = monotonic()
    if hit is not None and now - hit[0] < _TTL_SECONDS:
        return hit[1]
    found = Municipality.objects.filter(is_active=True, **{field: value}).first()
    # Cache a slug only when found, so a new municipality is served at once under /m/<slug>/. A
    # host that is no municipality's (the main site, the API host) is asked about on every request,
    # so its miss is cached too; a municipality given a new host is served on it within the TTL.
    if found is not None or field == "host":
        _cache[key] = (now, found)
    return found


def municipality_cache_clear() -> None:
    _cache.clear()


def role_assignments_active(municipality: Municipality) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.active()
        .filter(municipality=municipality)
        .select_related("user", "granted_by")
        .order_by("role", "user__email")
    )


def roles_of_user(user: User) -> QuerySet[RoleAssignment]:
    return (
        RoleAssignment.objects.active()
        .filter(user=user, municipality__is_active=True)
        .select_related("municipality")
        .order_by("municipality__code", "role")
    )


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor_email: str = ""
    target_type: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_entries(municipality: Municipality, filters: AuditFilter) -> QuerySet[AuditEntry]:
    """Entries of one municipality only; the site chain is for the site operator (Django admin)."""
    entries = AuditEntry.objects.filter(municipality=municipality).select_related("actor")
    if filters.action:
        entries = entries.filter(action__startswith=filters.action)
    if filters.actor_email:
        entries = entries.filter(actor__email__iexact=filters.actor_email)
    if filters.target_type:
        entries = entries.filter(target_type=filters.target_type)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        entries = entries.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        entries = entries.filter(created_at__lte=datetime.combine(filters.date_to, time.max, tz))
    return entries.order_by("-created_at", "-id")


def audit_actions(municipality: Municipality) -> list[str]:
    return list(
        AuditEntry.objects.filter(municipality=municipality)
        .values_list("action", flat=True)
        .distinct()
        .order_by("action")
    )


@dataclass(frozen=True)
class PersonRecord:
    name: str
    birth_date: date
    address: str


def people_of_verifications(verification_ids: list[int]) -> dict[int, PersonRecord]:
    """Personal data for authorised, audited staff lists (e.g. the signatory list): the only way
    other apps reach names, birthdates and addresses."""
    rows = Verification.objects.filter(pk__in=verification_ids).values_list(
        "pk", "legal_name", "birth_date", "address"
    )
    return {pk: PersonRecord(name, birth, address) for pk, name, birth, address in rows}
