"""Online signatures: the hot path. Insert first, audit, bump the counter last."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import AuditItem, audit_record, audit_record_many
from identity.eligibility import eligibility, eligibility_many, eligibility_of_person
from identity.errors import Conflict, DomainError, Gone, InvalidInput, NotFound, PermissionDenied
from identity.keys import PersonFacts
from identity.models import Municipality, User
from identity.permissions import require
from proposals import permissions
from proposals.events import publish_signature_count
from proposals.models import (
    Proposal,
    Signature,
    SignatureChannel,
    Status,
)
from proposals.services.common import timeline_add


@dataclass(frozen=True)
class SignatureResult:
    signature: Signature
    count: int
    crossed_threshold: bool
    threshold: int | None


def _bump(proposal_id: int, delta: int) -> int:
    """The hot counter: one UPDATE … RETURNING, so the row lock lasts only until commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE proposals_proposal SET signature_count = signature_count + %s "
            "WHERE id = %s RETURNING signature_count",
            [delta, proposal_id],
        )
        (count,) = cursor.fetchone()
    return int(count)


def _record_crossing(proposal: Proposal, at: datetime) -> bool:
    """Exactly one transaction sees count == threshold; it alone records the crossing."""
    updated = Proposal.objects.filter(
        pk=proposal.pk, status=Status.COLLECTING, threshold_reached_at__isnull=True
    ).update(status=Status.THRESHOLD_REACHED, threshold_reached_at=at, updated_at=at)
    if updated:
        timeline_add(proposal, Status.THRESHOLD_REACHED, at)
        from proposals.tasks import notify_threshold_reached

        transaction.on_commit(partial(notify_threshold_reached.delay, proposal.pk))
    return bool(updated)


def _proposal_for_online_signing(
    municipality: Municipality, proposal_id: int, now: datetime
) -> Proposal:
    """The proposal, if it takes online signatures now (else the domain error to answer)."""
    proposal = (
        Proposal.objects.select_related("type")
        .only(
            "id",
            "status",
            "threshold",
            "collection_closes_at",
            "municipality_id",
            "type__min_age",
            "type__register_date",
            "type__accepts_online",
        )
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    if not proposal.is_collecting(now):
        raise Gone(_("Signature collection for this proposal is closed."), code="collection_closed")
    if not proposal.type.accepts_online:
        raise Conflict(
            _("This proposal takes signatures at the counter or on paper only."),
            code="channel_not_accepted",
        )
    return proposal


@transaction.atomic(durable=True)
def signature_add(*, actor: User, municipality: Municipality, proposal_id: int) -> SignatureResult:
    """A resident signs online. Judged by the shared eligibility rule at this very moment."""
    now = timezone.now()
    proposal = _proposal_for_online_signing(municipality, proposal_id, now)
    decision = eligibility(actor, municipality, now, permissions.signer_rule(proposal.type))
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    signature = Signature(
        proposal_id=proposal.pk,
        person_key=decision.person_key,
        user=actor,
        channel=SignatureChannel.ONLINE,
        age_bracket=decision.age_bracket,
        method=decision.method,
        verification_id=decision.verification_id,
        signed_at=now,
    )
    # No savepoint around the insert (saves two round trips on the hot path): a second signature
    # fails on the unique constraint and we leave at once, so the whole transaction rolls back.
    try:
        signature.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("You have already signed this proposal."), code="already_signed") from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.add",
        target=signature,
        data={"proposal": proposal.pk, "channel": SignatureChannel.ONLINE},
    )
    count = _bump(proposal.pk, +1)
    crossed = count == proposal.threshold and _record_crossing(proposal, now)
    transaction.on_commit(partial(publish_signature_count, proposal.pk))
    return SignatureResult(signature, count, crossed, proposal.threshold)


def _add_batch(
    actors: Sequence[User], municipality: Municipality, proposal_id: int
) -> tuple[list[SignatureResult | DomainError | None], list[int]]:
    """One transaction for the batch: (outcome per actor, or None when it must be signed
    alone; the indexes to sign alone, in arrival order)."""
    outcomes: list[SignatureResult | DomainError | None] = [None] * len(actors)
    alone: list[int] = []
    with transaction.atomic(durable=True):
        now = timezone.now()
        try:
            proposal = _proposal_for_online_signing(municipality, proposal_id, now)
        except DomainError as refused:
            return [refused] * len(actors), []
        rule = permissions.signer_rule(proposal.type)
        signatures: list[tuple[int, Signature]] = []
        seen: set[str] = set()
        decisions = eligibility_many(actors, municipality, now, rule)
        for index, (actor, decision) in enumerate(zip(actors, decisions, strict=True)):
            if not decision:
                outcomes[index] = PermissionDenied(decision.message, code=decision.code)
                continue
            if decision.person_key in seen:
                alone.append(index)  # the same person twice: the single path answers the second
                continue
            seen.add(decision.person_key)
            signatures.append(
                (
                    index,
                    Signature(
                        proposal_id=proposal.pk,
                        person_key=decision.person_key,
                        user=actor,
                        channel=SignatureChannel.ONLINE,
                        age_bracket=decision.age_bracket,
                        method=decision.method,
                        verification_id=decision.verification_id,
                        signed_at=now,
                    ),
                )
            )
        if signatures:
            signed = set(
                Signature.objects.filter(
                    proposal_id=proposal.pk,
                    person_key__in=[sig.person_key for _, sig in signatures],
                    withdrawn_at__isnull=True,
                ).values_list("person_key", flat=True)
            )
            alone += [index for index, sig in signatures if sig.person_key in signed]
            signatures = [(index, sig) for index, sig in signatures if sig.person_key not in signed]
        if signatures:
            # A signature stored meanwhile by a concurrent transaction fails the insert
            # (IntegrityError): the batch rolls back and every signer is signed alone.
            Signature.objects.bulk_create([sig for _, sig in signatures])
            audit_record_many(
                [
                    AuditItem(
                        actor=actors[index],
                        municipality=municipality,
                        action="signature.add",
                        target=sig,
                        data={"proposal": proposal.pk, "channel": SignatureChannel.ONLINE},
                    )
                    for index, sig in signatures
                ]
            )
            count = _bump(proposal.pk, len(signatures))
            first = count - len(signatures)
            threshold = proposal.threshold
            crossing = None
            if threshold is not None and first < threshold <= count:
                crossing = threshold - first - 1  # the signature that reaches the threshold
            crossed = crossing is not None and _record_crossing(proposal, now)
            for position, (index, sig) in enumerate(signatures):
                outcomes[index] = SignatureResult(
                    sig, first + position + 1, crossed and position == crossing, threshold
                )
            transaction.on_commit(partial(publish_signature_count, proposal.pk))
    return outcomes, sorted(alone)


def signature_add_many(
    *, actors: Sequence[User], municipality: Municipality, proposal_id: int
) -> list[SignatureResult | DomainError]:
    """Group commit for signatures of one proposal arriving together: each actor gets what
    `signature_add` would give it alone, in arrival order (the result or the domain error).
    The batch is one transaction (proposal checked once, each signer judged by the shared
    eligibility rule, one bulk insert, one audit insert, the counter bumped once and the
    crossing decided inside); duplicates (the same person twice, or already signed) are then
    signed one by one through `signature_add`, after the batch, in arrival order."""
    if not actors:
        return []
    try:
        outcomes, alone = _add_batch(actors, municipality, proposal_id)
    except IntegrityError:
        outcomes, alone = [None] * len(actors), list(range(len(actors)))
    for index in alone:
        try:
            outcomes[index] = signature_add(
                actor=actors[index], municipality=municipality, proposal_id=proposal_id
            )
        except DomainError as refused:
            outcomes[index] = refused
    return [outcome for outcome in outcomes if outcome is not None]


@transaction.atomic(durable=True)
def signature_withdraw(*, actor: User, municipality: Municipality, proposal_id: int) -> int:
    proposal = (
        Proposal.objects.select_related("type")
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    if not proposal.is_collecting():
        raise Gone(_("Signature collection for this proposal is closed."), code="collection_closed")
    if not proposal.type.signatures_withdrawable:
        raise Conflict(
            _("Signatures for this kind of proposal cannot be withdrawn."), code="not_withdrawable"
        )
    now = timezone.now()
    withdrawn = Signature.objects.filter(
        proposal=proposal, user=actor, channel=SignatureChannel.ONLINE, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    if not withdrawn:
        raise NotFound(_("You have not signed this proposal."), code="not_signed")
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.withdraw",
        target=proposal,
        data={"proposal": proposal.pk},
    )
    count = _bump(proposal.pk, -1)
    transaction.on_commit(partial(publish_signature_count, proposal.pk))
    return count


@dataclass(frozen=True)
class OfflineSignature:
    """What a clerk types from a paper sheet or hears at the counter."""

    person: PersonFacts
    channel: str
    sheet: str = ""


@transaction.atomic(durable=True)
def signature_add_offline(
    *, actor: User, municipality: Municipality, proposal_id: int, entry: OfflineSignature
) -> SignatureResult:
    """A counter clerk enters a signature. The signer is judged by the same eligibility rule,
    matched against verified residents or the resident register, and counts once across channels."""
    require(permissions.can_enter_offline_signatures(actor, municipality))
    proposal = (
        Proposal.objects.select_related("type")
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    now = timezone.now()
    if not proposal.is_collecting(now):
        raise Gone(_("Signature collection for this proposal is closed."), code="collection_closed")
    if entry.channel not in (SignatureChannel.COUNTER, SignatureChannel.PAPER) or (
        entry.channel not in proposal.type.channels()
    ):
        raise Conflict(
            _("This proposal does not take this kind of signature."), code="channel_not_accepted"
        )
    if entry.channel == SignatureChannel.PAPER and not entry.sheet.strip():
        raise InvalidInput(_("Enter the number of the paper sheet."), code="sheet_required")
    decision = eligibility_of_person(
        entry.person, municipality, now, permissions.signer_rule(proposal.type)
    )
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    signature = Signature(
        proposal_id=proposal.pk,
        person_key=decision.person_key,
        channel=entry.channel,
        age_bracket=decision.age_bracket,
        method=decision.method,
        verification_id=decision.verification_id,
        entered_by=actor,
        sheet=entry.sheet.strip()[:40],
        signed_at=now,
    )
    try:
        with transaction.atomic():
            signature.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _("This person has already signed (online, at the counter or on paper)."),
            code="already_signed",
        ) from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.add",
        target=signature,
        data={"proposal": proposal.pk, "channel": entry.channel, "sheet": signature.sheet},
    )
    count = _bump(proposal.pk, +1)
    crossed = count == proposal.threshold and _record_crossing(proposal, now)
    transaction.on_commit(partial(publish_signature_count, proposal.pk))
    return SignatureResult(signature, count, crossed, proposal.threshold)
