"""Who may take part in a debate (the shared eligibility rule plus the running phase's registry
entry) and who may moderate it. Reading is public."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from debates import phases
from debates.models import Debate, DebateModerator, Phase
from identity.eligibility import REASONS as ELIGIBILITY_REASONS
from identity.eligibility import EligibilityRule, eligibility
from identity.models import Municipality, Role, User
from identity.permissions import REASONS as STAFF_REASONS
from identity.permissions import Decision, mfa_passed, staff_access

REASONS: dict[str, Promise] = {
    "phase_closed": _("This debate is not open for taking part right now."),
    "action_not_in_phase": _("This is not possible in the current phase of the debate."),
    "not_moderator": _("Only the moderators of this debate can do this."),
}


@dataclass(frozen=True)
class ParticipationDecision:
    """Like `identity.permissions.Decision`; carries the phase and person key when allowed."""

    allowed: bool
    code: str
    phase: Phase | None = None
    person_key: str = ""

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def message(self) -> Promise:
        for reasons in (REASONS, ELIGIBILITY_REASONS, STAFF_REASONS):
            if self.code in reasons:
                return reasons[self.code]
        return STAFF_REASONS["ok"]


def participant_rule(debate: Debate) -> EligibilityRule:
    return EligibilityRule(min_age=debate.min_age, residence_required=debate.residence_required)


def phase_at(debate: Debate, at: datetime) -> Phase | None:
    """The phase running at `at` (start inclusive, end exclusive), if any."""
    return Phase.objects.filter(debate=debate, starts_at__lte=at, ends_at__gt=at).first()


def can_take_part(
    user: User | AnonymousUser, debate: Debate, action: str, at: datetime
) -> ParticipationDecision:
    assert action in phases.ACTIONS, action
    phase = phase_at(debate, at)
    if phase is None:
        return ParticipationDecision(False, "phase_closed")
    if not phase.allows(action):
        return ParticipationDecision(False, "action_not_in_phase", phase=phase)
    verdict = eligibility(user, debate.municipality, at, participant_rule(debate))
    if not verdict:
        return ParticipationDecision(False, verdict.code, phase=phase)
    return ParticipationDecision(True, "eligible", phase=phase, person_key=verdict.person_key)


def can_moderate(user: User | AnonymousUser, debate: Debate) -> ParticipationDecision:
    """A moderator of this debate, or a municipal moderator (with two-step verification)."""
    if not user.is_authenticated:
        return ParticipationDecision(False, "not_signed_in")
    if not user.is_active:
        return ParticipationDecision(False, "account_inactive")
    if DebateModerator.objects.filter(debate=debate, user=user).exists():
        # A debate's own moderator passes the same two-step check as every staff role.
        passed = mfa_passed(user)
        return ParticipationDecision(bool(passed), passed.code)
    staff: Decision = staff_access(user, debate.municipality, {Role.MODERATOR})
    if staff:
        return ParticipationDecision(True, "ok")
    code = "not_moderator" if staff.code == "role_required" else staff.code
    return ParticipationDecision(False, code)


def can_create_debate(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.MODERATOR})
