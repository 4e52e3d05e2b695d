"""Helpers shared by the proposal services."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from identity.errors import Conflict, NotFound
from identity.models import Municipality
from proposals.models import Proposal, TimelineEvent


def timeline_add(proposal: Proposal, status: str, at: datetime, note: str = "") -> None:
    TimelineEvent.objects.create(proposal=proposal, status=status, at=at, note=note)


def locked_proposal(proposal_id: int, municipality: Municipality) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("type")
        .filter(pk=proposal_id, municipality=municipality)
        .first()
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    return proposal


def transition(proposal: Proposal, allowed_from: tuple[str, ...], to: str) -> None:
    if proposal.status not in allowed_from:
        raise Conflict(
            _("This cannot be done while the proposal is “%(status)s”.")
            % {"status": proposal.get_status_display()},
            code="illegal_transition",
        )
    proposal.status = to
