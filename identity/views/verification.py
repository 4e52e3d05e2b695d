"""The resident's own "My verification" page, and the status read the API shares with it.

The status is derived from identity.eligibility (the one eligibility function), so this page, the
API and every act agree on whether a verification counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from identity import selectors
from identity.decorators import current_user
from identity.eligibility import Eligibility, EligibilityRule, eligibility
from identity.models import EndReason, Municipality, User, Verification

StatusName = Literal["verified", "expired", "revoked", "moved_out", "not_verified"]
STATUS_LABELS: dict[StatusName, Promise] = {
    "verified": _("Verified resident"),
    "expired": _("Expired"),
    "revoked": _("Withdrawn by the city office"),
    "moved_out": _("Moved out"),
    "not_verified": _("Not verified"),
}
# Offer renewal this long before a verification expires.
RENEW_WINDOW = timedelta(days=60)
DEFAULT_RULE = EligibilityRule()  # 18 or older, verified resident, any method


@dataclass(frozen=True)
class VerificationStatus:
    municipality: Municipality
    status: StatusName
    current: Verification | None
    eligibility: Eligibility
    history: list[Verification] = field(default_factory=list)
    renew_soon: bool = False

    @property
    def label(self) -> Promise:
        return STATUS_LABELS[self.status]


def _judged(history: list[Verification], at: datetime) -> Verification | None:
    """The verification eligibility judges (see eligibility._current_verification)."""
    started = [v for v in history if v.verified_at <= at]
    for verification in started:
        if verification.ended_at is None or verification.ended_at > at:
            return verification
    return next((v for v in started if v.end_reason != EndReason.RENEWED), None)


def _status(decision: Eligibility, current: Verification | None) -> StatusName:
    if decision.code in {"eligible", "under_age", "method_not_accepted"}:
        return "verified"
    if decision.code == "verification_expired":
        return "expired"
    if decision.code == "verification_revoked":
        return "revoked"
    if current is not None and current.end_reason == EndReason.MOVED_OUT:
        return "moved_out"
    return "not_verified"


def verification_status(
    user: User, municipality: Municipality, at: datetime | None = None
) -> VerificationStatus:
    """The person's standing in `municipality` at `at` (now), with their history there."""
    at = at or timezone.now()
    history = list(
        Verification.objects.filter(user=user, municipality=municipality).order_by(
            "-verified_at", "-pk"
        )
    )
    decision = eligibility(user, municipality, at, DEFAULT_RULE)
    current = _judged(history, at)
    status = _status(decision, current)
    return VerificationStatus(
        municipality=municipality,
        status=status,
        current=current,
        eligibility=decision,
        history=history,
        renew_soon=status == "verified"
        and current is not None
        and current.expires_at - at <= RENEW_WINDOW,
    )


def _municipalities_with_history(user: User) -> list[Municipality]:
    return list(selectors.municipalities_public().filter(Q(verifications__user=user)).distinct())


@login_required
@require_GET
def my_verification(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    municipality: Municipality | None = getattr(request, "municipality", None)
    if municipality is not None:
        statuses = [verification_status(user, municipality)]
        others: list[Municipality] = []
    else:
        # On the site root there is no municipality: show each one the person has a history in,
        # and link to all of them so a first verification can start.
        statuses = [verification_status(user, m) for m in _municipalities_with_history(user)]
        others = list(selectors.municipalities_public())
    return render(
        request,
        "identity/verification/mine.html",
        {"statuses": statuses, "other_municipalities": others, "now": timezone.now()},
    )
