from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from debates import permissions
from debates.models import Contribution, Debate
from identity.errors import NotFound, PermissionDenied
from identity.models import User


def debate_get(debate_id: int, *, lock: bool = False) -> Debate:
    queryset = Debate.objects.select_related("municipality")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    debate = queryset.filter(pk=debate_id).first()
    if debate is None:
        raise NotFound(_("No such debate."))
    return debate


def contribution_get(contribution_id: int) -> Contribution:
    contribution = (
        Contribution.objects.select_related("debate__municipality")
        .filter(pk=contribution_id)
        .first()
    )
    if contribution is None:
        raise NotFound(_("No such contribution."))
    return contribution


def require_part(
    user: User | AnonymousUser, debate: Debate, action: str, at: datetime
) -> permissions.ParticipationDecision:
    decision = permissions.can_take_part(user, debate, action, at)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
    return decision


def require_moderator(user: User | AnonymousUser, debate: Debate) -> None:
    decision = permissions.can_moderate(user, debate)
    if not decision:
        raise PermissionDenied(decision.message, code=decision.code)
