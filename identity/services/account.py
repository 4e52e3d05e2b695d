"""A resident's own account: download everything the site holds about them, and delete it.

Deleting erases the person, not the row: the account becomes a tombstone (no e-mail, name,
password, verification, MFA or social login) because the audit chain and the legal acts refer to
its id. See docs/privacy.md and docs/decisions.md ("Account deletion erases, it does not delete").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, Gone, InvalidFields, InvalidInput
from identity.models import RoleAssignment, User, Verification
from identity.privacy import Refusal, Section, person_keys_of, providers

EXPORT_FORMATS = ("json", "csv")
CSV_COLUMNS = ("section", "row", "field", "value")


def _identity_export(user: User) -> dict[str, Section]:
    verifications = Verification.objects.filter(user=user).select_related("municipality")
    return {
        "profile": [
            {
                "id": user.pk,
                "email": user.email,
                "display_name": user.display_name,
                "date_joined": user.date_joined,
                "last_login": user.last_login,
                "created_at_counter_of": (
                    user.counter_municipality.slug if user.counter_municipality else ""
                ),
            }
        ],
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "verifications": [
            {
                "municipality": v.municipality.slug,
                "method": v.method,
                "name": v.legal_name,
                "birth_date": v.birth_date,
                "address": v.address,
                "resident_since": v.resident_since,
                "document_type": v.document_type,
                "verified_at": v.verified_at,
                "expires_at": v.expires_at,
                "ended_at": v.ended_at,
                "end_reason": v.end_reason,
            }
            for v in verifications.order_by("pk")
        ],
        "roles": [
            {
                "municipality": r.municipality.slug,
                "role": r.role,
                "granted_at": r.granted_at,
                "revoked_at": r.revoked_at,
            }
            for r in RoleAssignment.objects.filter(user=user).select_related("municipality")
        ],
        "two_step_verification": [
            {"type": a.type, "created_at": a.created_at, "last_used_at": a.last_used_at}
            for a in Authenticator.objects.filter(user=user).order_by("pk")
        ],
        "municipal_id_logins": [
            {"provider": s.provider, "subject": s.uid, "date_joined": s.date_joined}
            for s in SocialAccount.objects.filter(user=user).order_by("pk")
        ],
    }


def account_data(user: User) -> dict[str, Section]:
    """Everything the site holds about `user`, section by section (a read; the export service
    audits the download)."""
    person_keys = person_keys_of(user)
    data = _identity_export(user)
    for provider in providers():
        data.update(provider.export(user, person_keys))
    return data


@transaction.atomic(durable=True)
def account_export(*, actor: User, fmt: str) -> dict[str, Section]:
    """The person downloads their own data. The download is audited (that it happened, in which
    format), so a stolen session's export shows in the log; the data itself is not stored."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(_("Unknown export format."), code="format_unknown")
    if actor.erased_at is not None:
        raise Gone(_("This account was deleted."), code="account_erased")
    data = account_data(actor)
    audit_record(
        actor=actor,
        municipality=None,
        action="account.export",
        target=actor,
        data={"format": fmt},
    )
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def export_json(data: dict[str, Section]) -> str:
    plain = {
        section: [{k: _plain(v) for k, v in row.items()} for row in rows]
        for section, rows in data.items()
    }
    return json.dumps(plain, ensure_ascii=False, indent=2)


def export_rows(data: dict[str, Section]) -> Iterator[list[Any]]:
    """The same data in one long table (section, row, field, value): one CSV for sections of
    different shapes, which a spreadsheet can filter."""
    for section, rows in data.items():
        for number, row in enumerate(rows, start=1):
            for field, value in row.items():
                yield [section, number, field, value]


def deletion_refusals(user: User) -> list[Refusal]:
    """Why the account cannot be deleted now (empty: it can)."""
    found: list[Refusal] = []
    if user.is_staff or user.is_superuser:
        found.append(
            Refusal(
                "operator_account",
                _("A site operator's account is closed by another operator, not deleted here."),
            )
        )
    if RoleAssignment.objects.active().filter(user=user).exists():
        found.append(
            Refusal(
                "role_active",
                _(
                    "You hold a staff role. Ask an administrator of your municipality to revoke "
                    "it; then you can delete your account."
                ),
            )
        )
    for provider in providers():
        found.extend(provider.refusals(user))
    return found


def _reauthenticate(user: User, password: str) -> None:
    """Like allauth's reauthentication: the password again, checked now, before anything else."""
    if not user.has_usable_password() or not user.check_password(password):
        raise InvalidFields(
            {"password": [_("The password is not correct.")]}, code="reauthentication_failed"
        )


@transaction.atomic(durable=True)
def account_delete(*, actor: User, password: str) -> dict[str, int]:
    """The person deletes their account: personal data erased, legal acts kept without them.

    Signatures stay counted under their keyed person hash, ballots stay on the board under their
    alias, ended proposals and debate texts stay published as by a former user. Refused (and
    nothing changed) while the person holds a staff role or a running procedure needs them.
    Returns the counts written to the audit entry."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.erased_at is not None:
        raise Gone(_("This account was deleted."), code="account_erased")
    _reauthenticate(user, password)
    refusals = deletion_refusals(user)
    if refusals:
        raise Conflict(" ".join(str(r.message) for r in refusals), code=refusals[0].code)
    now = timezone.now()
    person_keys = person_keys_of(user)
    counts: dict[str, int] = {}
    for provider in providers():
        counts.update(provider.erase(user, person_keys, now))
    verifications = Verification.objects.filter(user=user)
    # A renewal points at the verification it renewed (PROTECT): unlink the chain, then delete.
    verifications.update(renews=None)
    counts["verifications"], _detail = verifications.delete()
    counts["email_addresses"], _detail = EmailAddress.objects.filter(user=user).delete()
    counts["social_accounts"], _detail = SocialAccount.objects.filter(user=user).delete()
    counts["authenticators"], _detail = Authenticator.objects.filter(user=user).delete()
    user.email = f"erased-{user.pk}@erased.invalid"
    user.display_name = ""
    user.first_name = ""
    user.last_name = ""
    # A new password hash changes the session hash: every session and session token of the
    # account stops working at once (django.contrib.auth checks it on each request).
    user.set_unusable_password()
    user.is_active = False
    user.last_login = None
    user.counter_municipality = None
    user.erased_at = now
    user.save(
        update_fields=[
            "email",
            "display_name",
            "first_name",
            "last_name",
            "password",
            "is_active",
            "last_login",
            "counter_municipality",
            "erased_at",
        ]
    )
    audit_record(actor=user, municipality=None, action="account.delete", target=user, data=counts)
    return counts
