"""Following a proposal: e-mail on threshold, council answer and expiry (see proposals.tasks)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import NotFound, PermissionDenied
from identity.models import Municipality, User
from proposals.models import Follow, Proposal, Status


def _followable(proposal_id: int, municipality: Municipality, actor: User) -> Proposal:
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("Please sign in first."), code="not_signed_in")
    proposal = Proposal.objects.filter(pk=proposal_id, municipality=municipality).first()
    # A draft is visible to its author only: for anyone else it does not exist.
    if proposal is None or (proposal.status == Status.DRAFT and proposal.author_id != actor.pk):
        raise NotFound(_("No such proposal here."))
    return proposal


@transaction.atomic(durable=True)
def follow_add(*, actor: User, municipality: Municipality, proposal_id: int) -> bool:
    """Follow a proposal. Returns False when `actor` followed it already (nothing is written)."""
    proposal = _followable(proposal_id, municipality, actor)
    try:
        with transaction.atomic():
            follow = Follow.objects.create(proposal=proposal, user=actor)
    except IntegrityError:
        return False
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal.follow",
        target=proposal,
        data={"follow": follow.pk},
    )
    return True


@transaction.atomic(durable=True)
def follow_remove(*, actor: User, municipality: Municipality, proposal_id: int) -> bool:
    """Stop following. Returns False when `actor` was not following (nothing is written)."""
    proposal = _followable(proposal_id, municipality, actor)
    deleted, _rows = Follow.objects.filter(proposal=proposal, user=actor).delete()
    if not deleted:
        return False
    audit_record(
        actor=actor, municipality=municipality, action="proposal.unfollow", target=proposal
    )
    return True
