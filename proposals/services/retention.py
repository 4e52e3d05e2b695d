"""Signatory personal data is kept only for the retention period of the proposal's type after the
procedure ended (docs/privacy.md): then every signature is unlinked from the signer's account and
verification. The count, each signature's keyed person hash and the audit chain stay as they are."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, OuterRef, Q, Subquery
from django.utils import timezone

from identity.audit import audit_record
from proposals.models import Proposal, ProposalType, Signature, TimelineEvent
from proposals.privacy import ENDED


def _ended_at() -> Subquery:
    """When the proposal reached its final status: the timeline's entry for it."""
    return Subquery(
        TimelineEvent.objects.filter(proposal=OuterRef("pk"), status=OuterRef("status"))
        .order_by("-at")
        .values("at")[:1],
        output_field=DateTimeField(),
    )


def signatories_purge_due(now: datetime | None = None) -> list[int]:
    """The proposals whose signatory data is past its retention period, not yet purged."""
    now = now or timezone.now()
    due: list[int] = []
    for proposal_type in ProposalType.objects.only("pk", "signatory_retention_days"):
        cutoff = now - timedelta(days=proposal_type.signatory_retention_days)
        due += (
            Proposal.objects.filter(
                type=proposal_type, status__in=ENDED, signatories_purged_at__isnull=True
            )
            .annotate(ended_at=_ended_at())
            .filter(ended_at__lte=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return due


@transaction.atomic(durable=True)
def signatories_purge(*, proposal_id: int, now: datetime | None = None) -> int | None:
    """Unlink one proposal's signatures from their signers, if it is (still) due; audited with the
    number of signatures, no names. Returns that number, or None when there was nothing to do
    (already purged, or not due: a retried task changes nothing)."""
    now = now or timezone.now()
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("type", "municipality")
        .annotate(ended_at=_ended_at())
        .filter(pk=proposal_id, status__in=ENDED, signatories_purged_at__isnull=True)
        .first()
    )
    if proposal is None or proposal.ended_at is None:
        return None
    retention = timedelta(days=proposal.type.signatory_retention_days)
    if proposal.ended_at > now - retention:
        return None
    unlinked = (
        Signature.objects.filter(proposal=proposal)
        .filter(Q(user__isnull=False) | Q(verification_id__isnull=False))
        .update(user=None, verification_id=None, signer_erased_at=now)
    )
    proposal.signatories_purged_at = now
    proposal.save(update_fields=["signatories_purged_at"])
    audit_record(
        actor=None,
        municipality=proposal.municipality,
        action="proposal.signatories_purge",
        target=proposal,
        data={
            "signatures_unlinked": unlinked,
            "retention_days": proposal.type.signatory_retention_days,
        },
    )
    return unlinked


def signatories_purge_all_due(now: datetime | None = None) -> int:
    """The beat task's work: each due proposal in a transaction of its own."""
    purged = 0
    for proposal_id in signatories_purge_due(now):
        if signatories_purge(proposal_id=proposal_id, now=now) is not None:
            purged += 1
    return purged
