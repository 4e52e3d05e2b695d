"""A person's verification standing in a municipality, as the "My verification" page and the API
show it.

The status is derived from identity.eligibility (the one eligibility function), so the page, the
API and every act agree on whether a verification counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity import selectors
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
    history = selectors.verifications_of_user(user, municipality)
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
