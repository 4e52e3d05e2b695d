"""The city-office counter: accounts for residents without a smartphone, set-password letters, and
the audit of what staff looked at. Verifying and revoking live in identity.services.verification.

Accounts created without an e-mail address get a generated login id under a reserved `.invalid`
domain (RFC 2606), so no mail can ever be sent to it; see docs/decisions.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import AuditItem, audit_record, audit_record_many
from identity.errors import Conflict, InvalidInput, NotFound
from identity.models import DocumentType, Municipality, User, Verification

COUNTER_LOGIN_DOMAIN = "counter.invalid"
_LOGIN_DIGITS = 8
_LOGIN_ATTEMPTS = 20

StaffViewKind = Literal["search", "person"]
QueryKind = Literal["email", "name", "id"]  # id: a person page opened by account


def is_counter_login(email: str) -> bool:
    """A generated login id: it can sign in, but it can never receive mail."""
    return email.lower().endswith("." + COUNTER_LOGIN_DOMAIN)


def counter_reach(municipality: Municipality) -> Q:
    """The accounts a clerk of `municipality` may find and act on: people with a verification
    here (current or past), accounts this counter created (pending or not), and accounts that
    belong to no municipality yet (no current verification, not made at a counter), so a resident
    who signed up online can be verified in person. An account that belongs to another
    municipality is out of reach, as if it did not exist."""
    verified_anywhere = Exists(
        Verification.objects.filter(user=OuterRef("pk"), ended_at__isnull=True)
    )
    here = Verification.objects.filter(municipality=municipality).values("user_id")
    online_only = Q(counter_municipality__isnull=True) & ~Q(verified_anywhere)
    return Q(pk__in=here) | Q(counter_municipality=municipality) | online_only


def letter_reach(municipality: Municipality) -> Q:
    """The accounts a clerk of `municipality` may print a letter for: made at this counter, or
    verified here now. Never an account that belongs to no municipality or to another one."""
    return Q(counter_municipality=municipality) | Q(
        pk__in=Verification.objects.filter(municipality=municipality, ended_at__isnull=True).values(
            "user_id"
        )
    )


def account_municipalities(user: User) -> set[int]:
    """The municipalities an account belongs to: its counter's and those it is verified in."""
    found = set(
        Verification.objects.filter(user=user, ended_at__isnull=True).values_list(
            "municipality_id", flat=True
        )
    )
    if user.counter_municipality_id is not None:
        found.add(user.counter_municipality_id)
    return found


def _counter_login(municipality: Municipality) -> str:
    """`48213706@maebashi.counter.invalid`: digits only, so a resident can type it from a letter."""
    number = secrets.randbelow(10**_LOGIN_DIGITS)
    return f"{number:0{_LOGIN_DIGITS}d}@{municipality.slug}.{COUNTER_LOGIN_DOMAIN}"


@transaction.atomic(durable=True)
def resident_account_create(
    *, actor: User, municipality: Municipality, email: str, display_name: str
) -> User:
    """Create an account for a resident standing at the counter.

    With an e-mail address: the account uses it, unconfirmed (the clerk cannot know the resident
    owns it; allauth asks for confirmation at the first sign-in). Without: a generated login id,
    marked verified because no mail can reach it. Either way the password is unusable until the
    resident sets one through the letter (resident_letter_issue).
    """
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    email = email.strip().lower()
    display_name = display_name.strip()
    if len(display_name) > 60:
        raise InvalidInput(_("The display name can be at most 60 characters."), code="display_name")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("Enter a valid e-mail address."), code="email") from None
        if is_counter_login(email):
            raise InvalidInput(
                _("This domain is reserved for generated login ids."), code="email_reserved"
            )
        if (
            User.objects.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exists()
        ):
            raise Conflict(
                _("An account with this e-mail address exists already. Search for it instead."),
                code="email_taken",
            )
    user = _insert_user(municipality, email, display_name)
    user.counter_municipality = municipality
    user.save(update_fields=["counter_municipality"])
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=not email)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="account.create_at_counter",
        target=user,
        # Which kind of login, never the address itself: the audit log is not a directory.
        data={"user": user.pk, "login": "email" if email else "generated"},
    )
    return user


def _insert_user(municipality: Municipality, email: str, display_name: str) -> User:
    for _attempt in range(1 if email else _LOGIN_ATTEMPTS):
        user = User(email=email or _counter_login(municipality), display_name=display_name)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            continue
        return user
    raise Conflict(
        _("An account with this e-mail address exists already. Search for it instead."),
        code="email_taken",
    )


@dataclass(frozen=True)
class Letter:
    """What the printed letter carries. The key is allauth's password-reset token: it is bound
    to the password hash and last sign-in, so it stops working once the password is set."""

    user: User
    uidb36: str
    key: str


def letter_allowed(user: User) -> bool:
    """A letter on the clerk's word alone only for an account that has never had a password of
    its own (the first letter, or a reprint of it). Once the resident set one, a letter would let
    whoever holds it take the account over: see `letter_needs_resident`."""
    return not user.has_usable_password()


def letter_needs_resident(user: User) -> bool:
    """A generated login id with a password (it cannot receive the reset mail): a new letter
    only with the resident at the counter, their identity document checked."""
    return user.has_usable_password() and is_counter_login(user.email)


@transaction.atomic(durable=True)
def resident_letter_issue(
    *,
    actor: User,
    municipality: Municipality,
    user_id: int,
    resident_present_document: str = "",
) -> Letter:
    """A set-password letter for an account of this municipality (made at its counter, or
    verified here). The first letter needs no more; any later one (the resident set a password,
    a generated login id) only with the resident present, `resident_present_document` naming the
    type of identity document the clerk checked, recorded in the audit entry. The entry lands in
    the chain of every municipality the account belongs to."""
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    user = (
        User.objects.filter(letter_reach(municipality), pk=user_id, is_active=True)
        .distinct()
        .first()
    )
    if user is None:
        raise NotFound(_("No such account."), code="user_not_found")
    data: dict[str, object] = {"user": user.pk}
    if not letter_allowed(user):
        if not letter_needs_resident(user):
            raise Conflict(
                _(
                    "This account has a password and an e-mail address of its own. The person "
                    "can reset the password from the sign-in page."
                ),
                code="letter_not_needed",
            )
        if resident_present_document not in DocumentType.values:
            raise Conflict(
                _(
                    "The resident has set a password already. A new letter can only be given to "
                    "the resident in person: confirm that they are here and which identity "
                    "document you checked."
                ),
                code="letter_needs_resident",
            )
        data.update({"resident_present": True, "document_type": resident_present_document})
    audit_record_many(
        [
            AuditItem(
                actor=actor,
                municipality=Municipality(pk=municipality_id),
                action="account.letter_issue",
                target=user,
                data={**data, "by_municipality": municipality.pk},
            )
            for municipality_id in sorted(account_municipalities(user) | {municipality.pk})
        ]
    )
    return Letter(
        user=user, uidb36=user_pk_to_url_str(user), key=default_token_generator.make_token(user)
    )


@transaction.atomic(durable=True)
def staff_view_record(
    *,
    actor: User,
    municipality: Municipality,
    view: StaffViewKind,
    query_kind: QueryKind,
    results: int,
    user: User | None = None,
) -> None:
    """Staff saw personal data (names, birthdates, addresses): record that, with the kind of
    query and how many people were shown, never the query or the data itself."""
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    data: dict[str, object] = {"view": view, "query_kind": query_kind, "results": results}
    if user is not None:
        data["user"] = user.pk
    audit_record(
        actor=actor,
        municipality=municipality,
        action="verification.staff_view",
        target=user,
        data=data,
    )
