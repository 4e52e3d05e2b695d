"""Becoming a verified resident (three ways), renewing, and having it withdrawn."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.keys import PersonFacts, identity_hash, person_hash
from identity.models import (
    DocumentType,
    EndReason,
    Municipality,
    RegisterEntry,
    ResidentRegister,
    User,
    Verification,
    VerificationMethod,
)
from identity.services.counter import counter_reach


def _conflict(error: IntegrityError) -> Conflict:
    if "verification_one_active_per_account" in str(error):
        return Conflict(
            _("This account was verified here a moment ago. Reload the page."),
            code="already_verified",
        )
    return Conflict(
        _(
            "This person is already verified with another account. If that account is not yours, "
            "please come to the counter of the city office."
        ),
        code="identity_in_use",
    )


def _open(
    *,
    actor: User | None,
    user: User,
    municipality: Municipality,
    method: str,
    identity_key: str,
    person: PersonFacts,
    resident_since: date | None = None,
    document_type: str = "",
) -> Verification:
    """Record a verification; the account's earlier one here ends as renewed (history kept)."""
    if not person.name.strip() or not person.address.strip():
        raise InvalidInput(_("Name and address are required."), code="incomplete_person")
    now = timezone.now()
    current = (
        Verification.objects.select_for_update()
        .filter(user=user, municipality=municipality, ended_at__isnull=True)
        .first()
    )
    if current is not None:
        current.ended_at, current.end_reason, current.ended_by = now, EndReason.RENEWED, actor
        current.save(update_fields=["ended_at", "end_reason", "ended_by"])
    verification = Verification(
        user=user,
        municipality=municipality,
        method=method,
        identity_hash=identity_hash(method, identity_key),
        person_hash=person_hash(person, municipality.name),
        legal_name=person.name.strip(),
        birth_date=person.birth_date,
        address=person.address.strip(),
        resident_since=resident_since,
        document_type=document_type,
        verified_by=actor if actor is not None and actor != user else None,
        verified_at=now,
        expires_at=now + timedelta(days=municipality.verification_valid_days),
        renews=current,
    )
    try:
        with transaction.atomic():
            verification.save(force_insert=True)
    except IntegrityError as error:
        raise _conflict(error) from None
    data: dict[str, Any] = {"user": user.pk, "method": method}
    if current is not None:
        data["renews"] = current.pk
    if document_type:
        data["document_type"] = document_type
    audit_record(
        actor=actor or user,
        municipality=municipality,
        action="verification.renew" if current is not None else "verification.create",
        target=verification,
        data=data,
    )
    return verification


@transaction.atomic(durable=True)
def verification_by_oidc(
    *,
    user: User,
    municipality: Municipality,
    issuer: str,
    subject: str,
    person: PersonFacts,
) -> Verification:
    """The municipality's identity provider vouched for these claims (flow: identity.oidc)."""
    if not subject:
        raise InvalidInput(_("The identity provider sent no subject."), code="oidc_no_subject")
    return _open(
        actor=user,
        user=user,
        municipality=municipality,
        method=VerificationMethod.OIDC,
        identity_key=f"{issuer}|{subject}",
        person=person,
    )


@transaction.atomic(durable=True)
def verification_by_register(
    *, user: User, municipality: Municipality, person: PersonFacts
) -> Verification:
    """A resident matched the current register by name, birthdate and address."""
    # Lock the current register (an import takes the same lock) so a match cannot slip in while a
    # new register replaces it and its moved-out sweep runs.
    register = (
        ResidentRegister.objects.select_for_update()
        .filter(municipality=municipality, is_current=True)
        .first()
    )
    entry = (
        RegisterEntry.objects.filter(
            register=register,
            person_hash=person_hash(person, municipality.name),
        )
        .only("key_hash", "resident_since")
        .first()
    )
    if entry is None:
        raise NotFound(
            _(
                "We could not find you in the resident register. Check that name, date of birth "
                "and address are written exactly as on your residence certificate, or verify at "
                "the counter."
            ),
            code="register_no_match",
        )
    return _open(
        actor=user,
        user=user,
        municipality=municipality,
        method=VerificationMethod.REGISTER,
        identity_key=entry.key_hash,
        person=person,
        resident_since=entry.resident_since,
    )


@transaction.atomic(durable=True)
def verification_by_counter(
    *,
    actor: User,
    municipality: Municipality,
    user: User,
    person: PersonFacts,
    document_type: str,
    resident_since: date | None = None,
) -> Verification:
    """A counter clerk checked an identity document in person; its number is never recorded."""
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    if actor.pk == user.pk:
        # Nobody verifies their own residence: another clerk must look at the document.
        raise PermissionDenied(
            _("You cannot verify your own account. Ask another clerk."), code="self_verification"
        )
    if document_type not in DocumentType.values:
        raise InvalidInput(_("Choose the type of document you checked."), code="document_type")
    if not User.objects.filter(counter_reach(municipality), pk=user.pk).exists():
        # The account belongs to another municipality: out of this counter's reach.
        raise NotFound(_("No such account."), code="user_not_found")
    return _open(
        actor=actor,
        user=user,
        municipality=municipality,
        method=VerificationMethod.COUNTER,
        identity_key=person_hash(person, municipality.name),
        person=person,
        resident_since=resident_since,
        document_type=document_type,
    )


@transaction.atomic(durable=True)
def verification_revoke(
    *, actor: User, municipality: Municipality, verification_id: int, reason: str, note: str = ""
) -> Verification:
    permissions.require(permissions.can_verify_at_counter(actor, municipality))
    if reason not in {
        EndReason.MOVED_OUT,
        EndReason.ERROR,
        EndReason.DECEASED,
        EndReason.USER_REQUEST,
    }:
        raise InvalidInput(_("Choose why the verification is withdrawn."), code="end_reason")
    verification = (
        Verification.objects.select_for_update()
        .filter(pk=verification_id, municipality=municipality)
        .first()
    )
    if verification is None:
        raise NotFound(_("No such verification in this municipality."))
    if verification.ended_at is not None:
        raise Conflict(_("This verification has ended already."), code="already_ended")
    verification.ended_at = timezone.now()
    verification.ended_by = actor
    verification.end_reason = reason
    verification.end_note = note.strip()[:200]
    verification.save(update_fields=["ended_at", "ended_by", "end_reason", "end_note"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="verification.revoke",
        target=verification,
        data={"user": verification.user_id, "reason": reason},
    )
    return verification
