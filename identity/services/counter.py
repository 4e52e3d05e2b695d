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
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound
from identity.models import Municipality, User

COUNTER_LOGIN_DOMAIN = "counter.invalid"
_LOGIN_DIGITS = 8
_LOGIN_ATTEMPTS = 20

StaffViewKind = Literal["search", "person"]
QueryKind = Literal["email", "name", "id"]  # id: a person page opened by account


def is_counter_login(email: str) -> bool:
    """A generated login id: it can sign in, but it can never receive mail."""
    return email.lower().endswith("." + COUNTER_LOGIN_DOMAIN)


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
    """A letter may set a password only where nothing else can: no password yet, or a generated
    login id that cannot receive the ordinary reset mail. Otherwise a letter would let whoever
    holds it take over an account that has a working password and mailbox."""
    return not user.has_usable_password() or is_counter_login(user.email)


@transaction.atomic(durable=True)
def resident_letter_issue(*, actor: User, municipality: Municipality, user_id: int) -> Letter:
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound(_("No such account."), code="user_not_found")
    if not letter_allowed(user):
        raise Conflict(
            _(
                "This account has a password and an e-mail address of its own. The person can "
                "reset the password from the sign-in page."
            ),
            code="letter_not_needed",
        )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="account.letter_issue",
        target=user,
        data={"user": user.pk},
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
