"""Reads that enforce visibility: everything here is scoped to one municipality."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from time import monotonic

from django.db import close_old_connections, connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from identity.models import (
    AuditEntry,
    IdentityProvider,
    Municipality,
    ResidentRegister,
    RoleAssignment,
    User,
    Verification,
    VerificationMethod,
)
from identity.services.counter import COUNTER_LOGIN_DOMAIN, counter_reach, letter_reach


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
    # Middleware asks before any view runs: give the connection back now (to the pool, in
    # production) rather than pin it for the rest of the request, which may wait on a batch of
    # other requests that needs one (identity/batching.py). Inside a transaction, nothing to do.
    if not connection.in_atomic_block:
        close_old_connections()
    # Cache a slug only when found, so a new municipality is served at once under /m/<slug>/. A
    # host that is no municipality's (the main site, the API host) is asked about on every request,
    # so its miss is cached too; a municipality given a new host is served on it within the TTL.
    if found is not None or field == "host":
        _cache[key] = (now, found)
    return found


def municipality_cache_clear() -> None:
    _cache.clear()


def identity_provider_of(municipality: Municipality) -> IdentityProvider | None:
    return IdentityProvider.objects.select_related("app").filter(municipality=municipality).first()


def municipalities_with_history(user: User) -> list[Municipality]:
    """The active municipalities where the person has ever been verified."""
    return list(municipalities_public().filter(Q(verifications__user=user)).distinct())


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


# The resident register ---------------------------------------------------------------------------


def register_current(municipality: Municipality) -> ResidentRegister | None:
    return (
        ResidentRegister.objects.filter(municipality=municipality, is_current=True)
        .select_related("imported_by")
        .first()
    )


def register_exists(municipality: Municipality) -> bool:
    return ResidentRegister.objects.filter(municipality=municipality, is_current=True).exists()


def verifications_by_register_count(municipality: Municipality) -> int:
    return (
        Verification.objects.active()
        .filter(municipality=municipality, method=VerificationMethod.REGISTER)
        .count()
    )


# The counter (staff only: these carry personal data) ---------------------------------------------

_DIGITS = re.compile(r"^\d{4,}$")


def _verification_history(municipality: Municipality) -> QuerySet[Verification]:
    return Verification.objects.filter(municipality=municipality).order_by("-verified_at", "-pk")


def accounts_search(municipality: Municipality, query: str, limit: int) -> tuple[str, list[User]]:
    """Accounts matching an e-mail address or login id (exactly), or this municipality's
    verifications by name; each with its verifications here (`here`), newest first (two
    queries). The first item says which kind of query it was: "email" or "name"."""
    query = query.strip()
    # Only accounts within this counter's reach: never one that belongs to another municipality.
    users = User.objects.filter(counter_reach(municipality), is_active=True)
    if "@" in query:
        kind, users = "email", users.filter(email__iexact=query)
    elif _DIGITS.match(query):
        kind, users = (
            "email",
            users.filter(email__startswith=f"{query}@").filter(
                email__endswith=f".{COUNTER_LOGIN_DOMAIN}"
            ),
        )
    else:
        kind = "name"
        condition = Q(verifications__municipality=municipality)
        for token in query.split():
            condition &= Q(verifications__legal_name__icontains=token)
        users = users.filter(condition).distinct()
    found: list[User] = list(
        users.prefetch_related(
            Prefetch("verifications", queryset=_verification_history(municipality), to_attr="here")
        ).order_by("email")[:limit]
    )
    return kind, found


def letter_reachable(municipality: Municipality, user: User) -> bool:
    """Whether this counter may print a letter for the account at all (services.letter_reach)."""
    return User.objects.filter(letter_reach(municipality), pk=user.pk).exists()


def account_for_counter(municipality: Municipality, user_id: int) -> User | None:
    """The active account, if a clerk of `municipality` may see it (services.counter_reach)."""
    return (
        User.objects.filter(counter_reach(municipality), pk=user_id, is_active=True)
        .distinct()
        .first()
    )


def verifications_of_person(municipality: Municipality, user: User) -> list[Verification]:
    return list(_verification_history(municipality).filter(user=user).select_related("verified_by"))


def verification_of_municipality(
    municipality: Municipality, verification_id: int
) -> Verification | None:
    return (
        Verification.objects.only("pk", "user_id")
        .filter(pk=verification_id, municipality=municipality)
        .first()
    )


def verification_active(user: User, municipality: Municipality) -> Verification | None:
    return (
        Verification.objects.active()
        .filter(user=user, municipality=municipality)
        .only("legal_name")
        .first()
    )


def verifications_of_user(user: User, municipality: Municipality) -> list[Verification]:
    """The person's own history in one municipality, newest first."""
    return list(
        Verification.objects.filter(user=user, municipality=municipality).order_by(
            "-verified_at", "-pk"
        )
    )
