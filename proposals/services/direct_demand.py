"""The paper side of a direct demand (Local Autonomy Act art. 74): the representative's certificate,
the collectors the representative appoints, and the election office's blackout days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from identity.models import Municipality, User
from identity.permissions import require
from proposals import legal_calendar, permissions
from proposals.models import SIGNABLE, CollectionBlackout, Collector, Proposal, Status
from proposals.services.common import locked_proposal, timeline_add

# Collectors may be appointed from the certificate until the sheets are handed in.
APPOINTABLE = (Status.DRAFT, Status.COMMITTEE, *SIGNABLE)


def _direct_demand(proposal: Proposal) -> None:
    if not proposal.type.direct_demand:
        raise Conflict(
            _("Only a direct demand under the Local Autonomy Act has this step."),
            code="not_direct_demand",
        )


def _require_representative(proposal: Proposal, actor: User) -> None:
    # The author files the demand and is its representative (代表者).
    if proposal.author_id != actor.pk:
        raise PermissionDenied(
            _("Only the representative of the demand can do this."), code="not_representative"
        )


@transaction.atomic(durable=True)
def representative_certificate_issue(
    *, actor: User, municipality: Municipality, proposal_id: int
) -> Proposal:
    """The election office issues the representative's certificate (代表者証明書): from then on
    the representative may appoint collectors and open collection."""
    require(permissions.can_certify(actor, municipality))
    proposal = locked_proposal(proposal_id, municipality)
    _direct_demand(proposal)
    if proposal.status not in (Status.DRAFT, Status.COMMITTEE):
        raise Conflict(
            _("The certificate is issued before signature collection opens."),
            code="illegal_transition",
        )
    if proposal.certificate_issued_at is not None:
        raise Conflict(_("The certificate was issued already."), code="already_issued")
    now = timezone.now()
    proposal.certificate_issued_at = now
    proposal.updated_at = now
    proposal.save(update_fields=["certificate_issued_at", "updated_at"])
    timeline_add(
        proposal,
        proposal.status,
        now,
        note=str(_("The election office issued the representative's certificate.")),
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.certificate_issue",
        target=proposal,
        data={"representative": proposal.author_id},
    )
    return proposal


@transaction.atomic(durable=True)
def collector_appoint(
    *, actor: User, municipality: Municipality, proposal_id: int, name: str, address: str
) -> Collector:
    """The representative appoints a collector (受任者) who may gather signatures on paper."""
    proposal = locked_proposal(proposal_id, municipality)
    _require_representative(proposal, actor)
    _direct_demand(proposal)
    if proposal.certificate_issued_at is None:
        raise Conflict(
            _("Collectors can be appointed once the representative's certificate is issued."),
            code="no_certificate",
        )
    if proposal.status not in APPOINTABLE:
        raise Conflict(
            _("Collectors can no longer be appointed: collection has ended."),
            code="illegal_transition",
        )
    name, address = " ".join(name.split()), " ".join(address.split())
    if not name or not address:
        raise InvalidInput(_("Enter the collector's name and address."), code="incomplete")
    # The proposal row is locked: the next number cannot be taken twice.
    last = Collector.objects.filter(proposal=proposal).aggregate(n=Max("number"))["n"] or 0
    try:
        with transaction.atomic():
            collector = Collector.objects.create(
                proposal=proposal,
                number=last + 1,
                name=name[:100],
                address=address[:200],
                appointed_by=actor,
            )
    except IntegrityError:
        raise Conflict(
            _("This person is already an appointed collector."), code="already_appointed"
        ) from None
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.collector_appoint",
        target=collector,
        data={"proposal": proposal.pk, "number": collector.number},
    )
    return collector


@transaction.atomic(durable=True)
def collector_revoke(
    *, actor: User, municipality: Municipality, proposal_id: int, collector_id: int
) -> Collector:
    """The representative ends an appointment; rows the collector gathered before stay valid."""
    proposal = locked_proposal(proposal_id, municipality)
    _require_representative(proposal, actor)
    collector = (
        Collector.objects.select_for_update().filter(pk=collector_id, proposal=proposal).first()
    )
    if collector is None:
        raise NotFound(_("No such collector for this proposal."))
    if collector.revoked_at is not None:
        raise Conflict(_("This appointment was revoked already."), code="already_revoked")
    collector.revoked_at = timezone.now()
    collector.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.collector_revoke",
        target=collector,
        data={"proposal": proposal.pk, "number": collector.number},
    )
    return collector


@dataclass(frozen=True)
class BlackoutValues:
    starts_on: date
    ends_on: date
    reason: str


def _suspended_close(proposal: Proposal, blackouts: list[CollectionBlackout]) -> datetime:
    """The collection's end with the blackout days not counted: the period stops during a
    blackout and runs on after it, so the demand keeps every day the law gives it."""
    assert proposal.collection_opens_at is not None
    first_day = legal_calendar.tokyo_day(proposal.collection_opens_at) + timedelta(days=1)
    last_day = legal_calendar.collection_last_day_suspended(
        proposal.municipality, first_day, blackouts
    )
    return legal_calendar.start_of_day(last_day + timedelta(days=1))


@transaction.atomic(durable=True)
def blackout_add(
    *, actor: User, municipality: Municipality, values: BlackoutValues
) -> CollectionBlackout:
    """The election office enters days before an election on which no signature for a direct
    demand may be sought; running collections are extended by the days they lose."""
    require(permissions.can_certify(actor, municipality))
    reason = " ".join(values.reason.split())
    if not reason:
        raise InvalidInput(_("Say which election the blackout is for."), code="incomplete")
    if values.ends_on < values.starts_on:
        raise InvalidInput(_("The blackout ends before it starts."), code="dates_reversed")
    blackout = CollectionBlackout.objects.create(
        municipality=municipality,
        starts_on=values.starts_on,
        ends_on=values.ends_on,
        reason=reason[:200],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.blackout_add",
        target=blackout,
        data={"from": values.starts_on.isoformat(), "to": values.ends_on.isoformat()},
    )
    blackouts = list(CollectionBlackout.objects.filter(municipality=municipality))
    running = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("type", "municipality")
        .filter(
            municipality=municipality,
            type__direct_demand=True,
            status__in=SIGNABLE,
            collection_opens_at__isnull=False,
        )
        .order_by("pk")
    )
    now = timezone.now()
    for proposal in running:
        closes_at = _suspended_close(proposal, blackouts)
        if proposal.collection_closes_at is None or closes_at <= proposal.collection_closes_at:
            continue
        proposal.collection_closes_at, proposal.updated_at = closes_at, now
        proposal.save(update_fields=["collection_closes_at", "updated_at"])
        timeline_add(
            proposal,
            proposal.status,
            now,
            note=str(
                _("Collection is suspended during an election blackout and now ends on %(date)s.")
                % {"date": proposal.last_signing_day().isoformat()}  # type: ignore[union-attr]
            ),
        )
    return blackout


MAX_SHEETS = 50


@transaction.atomic(durable=True)
def signature_sheets_print(
    *, actor: User, municipality: Municipality, proposal_id: int, collector_id: int, sheets: int
) -> tuple[Proposal, Collector]:
    """The representative (or the election office) prints blank signature sheets for one
    collector: allowed, then audited; the caller renders them (proposals.sheets)."""
    proposal = (
        Proposal.objects.select_related("type", "municipality", "author")
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    if proposal.author_id != actor.pk and not permissions.can_certify(actor, municipality):
        raise PermissionDenied(
            _("Only the representative of the demand can do this."), code="not_representative"
        )
    _direct_demand(proposal)
    if proposal.certificate_issued_at is None or proposal.status not in APPOINTABLE:
        raise Conflict(
            _(
                "Sheets are printed between the representative's certificate and the end of "
                "collection."
            ),
            code="not_printable",
        )
    collector = Collector.objects.filter(
        pk=collector_id, proposal=proposal, revoked_at__isnull=True
    ).first()
    if collector is None:
        raise NotFound(_("No such collector for this proposal."))
    if not 1 <= sheets <= MAX_SHEETS:
        raise InvalidInput(
            _("Print between 1 and %(n)s sheets at a time.") % {"n": MAX_SHEETS}, code="sheets"
        )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.sheets_print",
        target=proposal,
        data={"collector": collector.number, "sheets": sheets},
    )
    return proposal, collector
