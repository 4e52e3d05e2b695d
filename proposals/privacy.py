"""A person's data in proposals/: exported to them, and erased or unlinked when they delete their
account (identity.privacy.PrivacyProvider; listed in settings.MEBUKU_PRIVACY_PROVIDERS)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from identity.models import User
from identity.privacy import Refusal, Section
from proposals.models import (
    CommitteeMember,
    Follow,
    Notification,
    Objection,
    Proposal,
    Signature,
    Status,
)

# The procedure is over: nothing more is asked of the author or the promoters.
ENDED = (Status.ANSWERED, Status.EXPIRED, Status.WITHDRAWN, Status.NOT_CERTIFIED)


def _signatures(user: User, person_keys: set[str]) -> Q:
    """Online signatures carry the account; counter and paper ones only the person key."""
    return Q(user=user) | Q(person_key__in=person_keys)


def export(user: User, person_keys: set[str]) -> dict[str, Section]:
    proposals = Proposal.objects.filter(author=user).select_related("municipality", "type")
    signatures = (
        Signature.objects.filter(_signatures(user, person_keys))
        .select_related("proposal")
        .order_by("signed_at", "pk")
    )
    committee = CommitteeMember.objects.filter(user=user).select_related("proposal")
    return {
        "proposals": [
            {
                "id": p.pk,
                "municipality": p.municipality.slug,
                "type": p.type.name,
                "title": p.title,
                "summary": p.summary,
                "status": p.status,
                "created_at": p.created_at,
            }
            for p in proposals.order_by("pk")
        ],
        "signatures": [
            {
                "proposal": s.proposal_id,
                "title": s.proposal.title,
                "channel": s.channel,
                "sheet": s.sheet,
                "signed_at": s.signed_at,
                "withdrawn_at": s.withdrawn_at,
                "invalid_reason": s.invalid_reason,
            }
            for s in signatures
        ],
        "committees": [
            {
                "proposal": m.proposal_id,
                "title": m.proposal.title,
                "invited_at": m.invited_at,
                "confirmed_at": m.confirmed_at,
            }
            for m in committee.order_by("pk")
        ],
        "follows": [
            {"proposal": f.proposal_id, "since": f.created_at}
            for f in Follow.objects.filter(user=user).order_by("pk")
        ],
        "objections": [
            {"proposal": o.proposal_id, "text": o.text, "filed_at": o.filed_at}
            for o in Objection.objects.filter(filed_by=user).order_by("pk")
        ],
    }


def refusals(user: User) -> list[Refusal]:
    """The author (代表者) and the confirmed promoters of a proposal whose procedure runs are the
    parties the council and the election office deal with until it ends (地方自治法 §74 ff.):
    their names must stay on record until then."""
    running = ~Q(status__in=ENDED)
    authored = list(
        Proposal.objects.filter(running, author=user).order_by("pk").values_list("title", flat=True)
    )
    promoting = list(
        Proposal.objects.filter(
            running, committee__user=user, committee__confirmed_at__isnull=False
        )
        .exclude(author=user)
        .order_by("pk")
        .values_list("title", flat=True)
    )
    found = []
    if authored:
        found.append(
            Refusal(
                "proposal_running",
                _(
                    "You are the author of a proposal whose procedure has not ended (%(titles)s). "
                    "Withdraw it, or wait until it is answered, expired or not certified; then "
                    "you can delete your account."
                )
                % {"titles": "、".join(authored)},
            )
        )
    if promoting:
        found.append(
            Refusal(
                "promoter_running",
                _(
                    "You are a promoter of a proposal whose procedure has not ended (%(titles)s). "
                    "You can delete your account once it has ended."
                )
                % {"titles": "、".join(promoting)},
            )
        )
    return found


def erase(user: User, person_keys: set[str], now: datetime) -> dict[str, int]:
    """Signatures stay counted under their person key, without the account or the verification
    (whose name and address are being deleted); follows and invitations go."""
    unlinked = (
        Signature.objects.filter(_signatures(user, person_keys))
        .filter(Q(user__isnull=False) | Q(verification_id__isnull=False))
        .update(user=None, verification_id=None, signer_erased_at=now)
    )
    follows, _detail = Follow.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    invitations, _detail = CommitteeMember.objects.filter(
        user=user, confirmed_at__isnull=True
    ).delete()
    return {"signatures_unlinked": unlinked, "follows": follows, "invitations": invitations}
