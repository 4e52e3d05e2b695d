"""Online signatures: the hot path. Insert first, audit, bump the counter last."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import AuditItem, audit_record, audit_record_many
from identity.batching import MicroBatcher
from identity.eligibility import (
    Eligibility,
    eligibility,
    eligibility_many,
    eligibility_of_person,
)
from identity.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
)
from identity.idempotency import Claim, claims_store, claims_take, stores_answer
from identity.keys import PersonFacts
from identity.models import Municipality, User
from identity.permissions import require
from identity.selectors import municipality_cached
from identity.session_tokens import SessionToken, resolve_actors
from proposals import legal_calendar, permissions
from proposals.events import publish_signature_count
from proposals.models import (
    CollectionBlackout,
    Collector,
    Proposal,
    ProposalType,
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


def _proposals_table() -> str:
    return connection.ops.quote_name(Proposal._meta.db_table)


def _bump(proposal_id: int, delta: int) -> int:
    """The hot counter: one UPDATE … RETURNING, so the row lock lasts only until commit (the
    ORM's update() returns no value)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_proposals_table()} SET signature_count = signature_count + %s "  # noqa: S608  # nosec B608
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
        from proposals.outbox import notify

        notify(proposal, "threshold")
    return bool(updated)


def _online_signing_refusal(
    proposal: Proposal, now: datetime, blackout: CollectionBlackout | None
) -> DomainError | None:
    """Why this proposal takes no online signature now (None: it takes them)."""
    if not proposal.is_collecting(now):
        return Gone(
            _("Signature collection for this proposal is closed."), code="collection_closed"
        )
    if not proposal.type.accepts_online:
        return Conflict(
            _("This proposal takes signatures at the counter or on paper only."),
            code="channel_not_accepted",
        )
    if proposal.type.direct_demand and blackout is not None:
        return _blackout_refusal(blackout)
    return None


def _blackout_refusal(blackout: CollectionBlackout) -> Conflict:
    return Conflict(legal_calendar.blackout_message(blackout), code="collection_blackout")


def _proposals_for_online_signing(
    municipality: Municipality, proposal_ids: Collection[int], now: datetime
) -> dict[int, Proposal | DomainError]:
    """Each proposal, if it takes online signatures now, else the domain error to answer."""
    found = {
        proposal.pk: proposal
        for proposal in Proposal.objects.select_related("type")
        .only(
            "id",
            "status",
            "threshold",
            "collection_closes_at",
            "municipality_id",
            "type__min_age",
            "type__register_date",
            "type__accepts_online",
            "type__direct_demand",
        )
        .filter(pk__in=proposal_ids, municipality=municipality)
    }
    # Asked only when a direct demand is among them: the ordinary path keeps its queries.
    blackout = (
        legal_calendar.blackout_on(municipality, legal_calendar.tokyo_day(now))
        if any(proposal.type.direct_demand for proposal in found.values())
        else None
    )
    answers: dict[int, Proposal | DomainError] = {}
    for proposal_id in proposal_ids:
        proposal = found.get(proposal_id)
        if proposal is None:
            answers[proposal_id] = NotFound(_("No such proposal here."))
        else:
            answers[proposal_id] = _online_signing_refusal(proposal, now, blackout) or proposal
    return answers


def _proposal_for_online_signing(
    municipality: Municipality, proposal_id: int, now: datetime
) -> Proposal:
    answer = _proposals_for_online_signing(municipality, [proposal_id], now)[proposal_id]
    if isinstance(answer, DomainError):
        raise answer
    return answer


@transaction.atomic(durable=True)
def _sign_alone(
    *, actor: User, municipality: Municipality, proposal_id: int, claim: Claim | None = None
) -> SignatureResult:
    """One signature in a transaction of its own: for the requests a group commit leaves out (the
    same person twice, already signed, or a batch that a concurrent signature rolled back)."""
    if claim is not None:
        (refusal,) = claims_take([(actor.pk, claim)])
        if refusal is not None:
            raise refusal
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
    # No savepoint around the insert: a second signature fails on the unique constraint and we
    # leave at once, so the whole transaction rolls back.
    try:
        signature.save(force_insert=True)
    except IntegrityError:
        raise _already_signed() from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.add",
        target=signature,
        data={"proposal": proposal.pk, "channel": SignatureChannel.ONLINE},
    )
    count = _bump(proposal.pk, +1)
    crossed = count == proposal.threshold and _record_crossing(proposal, now)
    publish_signature_count(proposal.pk)
    result = SignatureResult(signature, count, crossed, proposal.threshold)
    if claim is not None:
        claims_store([(actor.pk, claim, result)])
    return result


def _already_signed() -> Conflict:
    return Conflict(_("You have already signed this proposal."), code="already_signed")


def signature_add(*, actor: User, municipality: Municipality, proposal_id: int) -> SignatureResult:
    """A resident signs online, judged by the shared eligibility rule at this very moment: the
    group commit of one (`signature_add_many`), so one request and many take one code path."""
    (outcome,) = signature_add_many(
        requests=[SignRequest(actor, proposal_id)], municipality=municipality
    )
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _bump_many(deltas: dict[int, int]) -> dict[int, int]:
    """`_bump` for several proposals: their rows locked in id order first, so two batches
    touching the same proposals can never deadlock; then one UPDATE for all."""
    ids = sorted(deltas)
    if len(ids) == 1 or connection.vendor != "postgresql":  # SQLite: one writer at a time anyway
        return {pk: _bump(pk, deltas[pk]) for pk in ids}
    with connection.cursor() as cursor:
        table = _proposals_table()  # the model's own table name, quoted: no input reaches it
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",  # noqa: S608  # nosec B608
            [ids],
        )
        cursor.execute(
            f"UPDATE {table} AS p SET signature_count = p.signature_count + d.delta "  # noqa: S608  # nosec B608
            "FROM unnest(%s::bigint[], %s::integer[]) AS d(id, delta) WHERE p.id = d.id "
            "RETURNING p.id, p.signature_count",
            [ids, [deltas[pk] for pk in ids]],
        )
        return {int(pk): int(count) for pk, count in cursor.fetchall()}


@dataclass(frozen=True)
class SignRequest:
    """One resident asking to sign one proposal online (an item of a group commit). The actor
    may still be an unchecked session token: the batch checks all its tokens together. With an
    `Idempotency-Key`, its claim: the answer is stored in the signature's transaction."""

    actor: User | SessionToken
    proposal_id: int
    idempotency: Claim | None = None


@dataclass(frozen=True)
class _Signer:
    actor: User
    proposal_id: int
    claim: Claim | None = None


# A request's answer: its result, the domain error to answer, or (rarely) the exception that
# failed it alone, e.g. a lost database connection while it was signed alone.
_Outcome = SignatureResult | DomainError | Exception


def _add_batch(
    requests: Sequence[_Signer], municipality: Municipality
) -> tuple[list[_Outcome | None], list[int]]:
    """One transaction for the batch: (outcome per request, or None when it must be signed
    alone; the indexes to sign alone, in arrival order)."""
    outcomes: list[_Outcome | None] = [None] * len(requests)
    alone: list[int] = []
    with transaction.atomic(durable=True):
        # Keys first: a retry is answered from its first answer, whatever the proposal's state.
        keyed = [(i, r.actor.pk, r.claim) for i, r in enumerate(requests) if r.claim is not None]
        taken = claims_take([(scope, claim) for _i, scope, claim in keyed])
        for (index, _scope, _claim), refusal in zip(keyed, taken, strict=True):
            outcomes[index] = refusal
        now = timezone.now()
        proposals = _proposals_for_online_signing(
            municipality, {request.proposal_id for request in requests}, now
        )
        # Judged per kind of proposal (its rule), each kind with one query.
        by_type: dict[int, tuple[ProposalType, list[int]]] = {}
        for index, request in enumerate(requests):
            if outcomes[index] is not None:
                continue
            proposal = proposals[request.proposal_id]
            if isinstance(proposal, DomainError):
                outcomes[index] = proposal
            else:
                by_type.setdefault(proposal.type_id, (proposal.type, []))[1].append(index)
        decisions: dict[int, Eligibility] = {}
        for proposal_type, indexes in by_type.values():
            judged = eligibility_many(
                [requests[index].actor for index in indexes],
                municipality,
                now,
                permissions.signer_rule(proposal_type),
            )
            decisions.update(zip(indexes, judged, strict=True))
        signatures: list[tuple[int, Signature]] = []
        seen: set[tuple[int, str]] = set()
        for index, decision in sorted(decisions.items()):
            request = requests[index]
            if not decision:
                outcomes[index] = PermissionDenied(decision.message, code=decision.code)
                continue
            pair = (request.proposal_id, decision.person_key)
            if pair in seen:
                alone.append(index)  # the same person twice: the single path answers the second
                continue
            seen.add(pair)
            signatures.append(
                (
                    index,
                    Signature(
                        proposal_id=request.proposal_id,
                        person_key=decision.person_key,
                        user=request.actor,
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
                    proposal_id__in={sig.proposal_id for _, sig in signatures},
                    person_key__in={sig.person_key for _, sig in signatures},
                    withdrawn_at__isnull=True,
                ).values_list("proposal_id", "person_key")
            )
            alone += [i for i, sig in signatures if (sig.proposal_id, sig.person_key) in signed]
            signatures = [
                (i, sig) for i, sig in signatures if (sig.proposal_id, sig.person_key) not in signed
            ]
        if signatures:
            # A signature stored meanwhile by a concurrent transaction fails the insert
            # (IntegrityError): the batch rolls back and every request is signed alone.
            Signature.objects.bulk_create([sig for _, sig in signatures])
            audit_record_many(
                [
                    AuditItem(
                        actor=requests[index].actor,
                        municipality=municipality,
                        action="signature.add",
                        target=sig,
                        data={"proposal": sig.proposal_id, "channel": SignatureChannel.ONLINE},
                    )
                    for index, sig in signatures
                ]
            )
            per_proposal: dict[int, list[tuple[int, Signature]]] = {}
            for index, sig in signatures:
                per_proposal.setdefault(sig.proposal_id, []).append((index, sig))
            counts = _bump_many({pk: len(group) for pk, group in per_proposal.items()})
            for proposal_id, group in per_proposal.items():
                proposal = proposals[proposal_id]
                assert isinstance(proposal, Proposal)
                _settle(proposal, group, counts[proposal_id], now, outcomes)
            # The answers of the keyed signatures, stored with them (one INSERT).
            claims_store(
                [
                    (requests[index].actor.pk, claim, outcomes[index])
                    for index, _sig in signatures
                    if (claim := requests[index].claim) is not None
                ]
            )
    return outcomes, sorted(alone)


def _settle(
    proposal: Proposal,
    group: list[tuple[int, Signature]],
    count: int,
    now: datetime,
    outcomes: list[_Outcome | None],
) -> None:
    """Number one proposal's new signatures in arrival order; record the crossing if one of
    them reached the threshold."""
    first = count - len(group)
    threshold = proposal.threshold
    crossing = None
    if threshold is not None and first < threshold <= count:
        crossing = threshold - first - 1  # the signature that reaches the threshold
    crossed = crossing is not None and _record_crossing(proposal, now)
    for position, (index, sig) in enumerate(group):
        outcomes[index] = SignatureResult(
            sig, first + position + 1, crossed and position == crossing, threshold
        )
    publish_signature_count(proposal.pk)


def signature_add_many(
    *, requests: Sequence[SignRequest], municipality: Municipality
) -> list[_Outcome]:
    """Group commit for online signatures arriving together (of one or many proposals of a
    municipality): each request gets what `signature_add` would give it alone, in arrival order
    (the result or the domain error). The batch is one transaction (the proposals read once,
    each kind of proposal judging its signers with one eligibility query, one bulk insert, one
    audit insert, the counters bumped together and each crossing decided inside); duplicates (the
    same person twice for a proposal, or already signed) are then signed one by one through
    `_sign_alone`, after the batch, in arrival order. A token that names nobody is answered
    `not_signed_in`."""
    if not requests:
        return []
    outcomes: list[_Outcome | None] = [None] * len(requests)
    signers: list[_Signer] = []
    positions: list[int] = []
    for index, (request, user) in enumerate(
        zip(requests, resolve_actors([r.actor for r in requests]), strict=True)
    ):
        if user is None:
            outcomes[index] = NotSignedIn(_("Please sign in first."))
        else:
            signers.append(_Signer(user, request.proposal_id, request.idempotency))
            positions.append(index)
    if signers:
        try:
            batch, alone = _add_batch(signers, municipality)
        except IntegrityError:
            batch, alone = [None] * len(signers), list(range(len(signers)))
        for index in alone:
            signer = signers[index]
            try:
                batch[index] = _sign_alone(
                    actor=signer.actor,
                    municipality=municipality,
                    proposal_id=signer.proposal_id,
                    claim=signer.claim,
                )
            except Exception as failed:  # this request's answer alone; the others stand
                batch[index] = failed
        for position, outcome in zip(positions, batch, strict=True):
            outcomes[position] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass(frozen=True)
class _Queued:
    municipality_slug: str
    request: SignRequest


def _sign_queued(queued: list[_Queued]) -> list[_Outcome]:
    """A micro-batch of signing requests (all for one municipality: the batcher's key)."""
    municipality = municipality_cached("slug", queued[0].municipality_slug)
    if municipality is None:
        return [NotFound(_("Not found.")) for _queued in queued]
    return signature_add_many(requests=[q.request for q in queued], municipality=municipality)


_signing: MicroBatcher[_Queued, SignatureResult] = MicroBatcher(
    _sign_queued, key=lambda queued: queued.municipality_slug
)


async def signature_add_batched(
    *,
    actor: User | SessionToken,
    municipality_slug: str,
    proposal_id: int,
    idempotency: Claim | None = None,
) -> SignatureResult:
    """`signature_add` for async callers: requests in flight together are signed in one group
    commit (identity/batching.py); each gets its own result or raises its own error."""
    return await _signing.submit(
        _Queued(municipality_slug, SignRequest(actor, proposal_id, idempotency))
    )


@transaction.atomic(durable=True)
@stores_answer
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
    publish_signature_count(proposal.pk)
    return count


@dataclass(frozen=True)
class OfflineSignature:
    """What a clerk types from a paper sheet or hears at the counter."""

    person: PersonFacts
    channel: str
    sheet: str = ""
    # A direct demand's paper row: its number on the sheet, the collector who carried the sheet
    # and the date the signer wrote.
    row: int | None = None
    collector_id: int | None = None
    written_on: date | None = None


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
    paper_row = proposal.type.direct_demand and entry.channel == SignatureChannel.PAPER
    if not (proposal.is_collecting(now) or (paper_row and _checking_sheets(proposal))):
        raise Gone(_("Signature collection for this proposal is closed."), code="collection_closed")
    if entry.channel not in (SignatureChannel.COUNTER, SignatureChannel.PAPER) or (
        entry.channel not in proposal.type.channels()
    ):
        raise Conflict(
            _("This proposal does not take this kind of signature."), code="channel_not_accepted"
        )
    if entry.channel == SignatureChannel.PAPER and not entry.sheet.strip():
        raise InvalidInput(_("Enter the number of the paper sheet."), code="sheet_required")
    collector = _direct_demand_rules(proposal, entry, now) if proposal.type.direct_demand else None
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
        sheet_row=entry.row if entry.channel == SignatureChannel.PAPER else None,
        collector=collector,
        written_on=entry.written_on if entry.channel == SignatureChannel.PAPER else None,
        signed_at=now,
    )
    try:
        with transaction.atomic():
            signature.save(force_insert=True)
    except IntegrityError as error:
        if "signature_sheet_row_once" in str(error):
            raise Conflict(
                _("Row %(row)s of sheet %(sheet)s was entered already.")
                % {"row": signature.sheet_row, "sheet": signature.sheet},
                code="row_entered",
            ) from None
        raise Conflict(
            _("This person has already signed (online, at the counter or on paper)."),
            code="already_signed",
        ) from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="signature.add",
        target=signature,
        data={
            "proposal": proposal.pk,
            "channel": entry.channel,
            "sheet": signature.sheet,
            "row": signature.sheet_row,
            "collector": signature.collector_id,
        },
    )
    count = _bump(proposal.pk, +1)
    crossed = count == proposal.threshold and _record_crossing(proposal, now)
    publish_signature_count(proposal.pk)
    return SignatureResult(signature, count, crossed, proposal.threshold)


def _checking_sheets(proposal: Proposal) -> bool:
    """A direct demand's sheets reach the election office after collection: their rows are
    entered during the check, until the checked count is published."""
    return proposal.status == Status.CERTIFICATION and proposal.certified_count is None


def _direct_demand_rules(
    proposal: Proposal, entry: OfflineSignature, now: datetime
) -> Collector | None:
    """What the law adds for a direct demand: no signature during an election blackout, and a
    paper row only from a registered collector's sheet, dated within the collection period.
    Returns the row's collector."""
    today = legal_calendar.tokyo_day(now)
    if entry.channel != SignatureChannel.PAPER:
        blackout = legal_calendar.blackout_on(proposal.municipality, today)
        if blackout is not None:
            raise _blackout_refusal(blackout)
        return None
    if entry.row is None or entry.row < 1:
        raise InvalidInput(_("Enter the row number on the sheet."), code="row_required")
    if entry.written_on is None:
        raise InvalidInput(_("Enter the date written on the row."), code="date_required")
    assert proposal.collection_opens_at is not None and proposal.collection_closes_at is not None
    first = legal_calendar.tokyo_day(proposal.collection_opens_at)
    last = proposal.last_signing_day()
    assert last is not None
    if not first <= entry.written_on <= min(last, today):
        raise Conflict(
            _("The row is dated %(date)s, outside the collection period (%(first)s to %(last)s).")
            % {
                "date": entry.written_on.isoformat(),
                "first": first.isoformat(),
                "last": last.isoformat(),
            },
            code="outside_period",
        )
    blackout = legal_calendar.blackout_on(proposal.municipality, entry.written_on)
    if blackout is not None:
        raise _blackout_refusal(blackout)
    if entry.collector_id is None:
        raise InvalidInput(
            _("Choose the collector whose sheet this is: only collectors' sheets count."),
            code="collector_required",
        )
    collector = Collector.objects.filter(pk=entry.collector_id, proposal=proposal).first()
    if collector is None:
        raise NotFound(_("No such collector for this proposal."), code="unknown_collector")
    prefix, _dash, index = entry.sheet.strip().partition("-")
    if prefix != str(collector.number) or not index.isdigit():
        raise Conflict(
            _(
                "Sheet %(sheet)s is not one of collector no. %(n)s's sheets (numbered "
                "%(n)s-1, %(n)s-2, …)."
            )
            % {"sheet": entry.sheet.strip(), "n": collector.number},
            code="sheet_not_collectors",
        )
    if not collector.active_on(entry.written_on):
        raise Conflict(
            _("%(name)s was not an appointed collector on %(date)s.")
            % {"name": collector.name, "date": entry.written_on.isoformat()},
            code="collector_not_appointed",
        )
    return collector
