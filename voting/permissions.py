"""Who may run an election and who may vote in it, each refusal with a stable reason code."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity.eligibility import REASONS as ELIGIBILITY_REASONS
from identity.eligibility import EligibilityRule
from identity.eligibility import reason_message as eligibility_reason
from identity.models import Municipality, Role, User
from identity.permissions import Decision, staff_access
from voting.models import Election

# Reasons a voter may be refused beyond the eligibility function's own (which are reused as they
# are, so a page says the same thing for a signature and a ballot).
REASONS: dict[str, Promise] = {
    **ELIGIBILITY_REASONS,
    "not_on_roll": _(
        "You are not on the voter roll of this election. The roll was fixed when the election was "
        "prepared, from the residents verified at that time."
    ),
    "duplicate_person": _(
        "Another account of the same person is on the roll; a person votes once."
    ),
    "roll_not_fixed": _("The voter roll of this election has not been fixed yet."),
}


def reason_message(code: str, election: Election | None = None) -> Promise:
    """The reason in plain language; an age refusal states the election's minimum age."""
    if code in ELIGIBILITY_REASONS:
        return eligibility_reason(code, min_age=election.min_age if election else None)
    return REASONS.get(code, REASONS["not_on_roll"])


def voter_rule(election: Election) -> EligibilityRule:
    """The election's rule for the shared eligibility function (judged at the close of voting,
    so the minimum age applies on polling day)."""
    return EligibilityRule(
        min_age=election.min_age,
        residence_required=True,
        methods=frozenset(election.methods),
        register_date=election.register_date,
    )


def can_manage_elections(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    """The election office (with two-step verification) prepares, closes and publishes."""
    return staff_access(user, municipality, {Role.ELECTION_OFFICE})


def can_view_roll_report(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ELECTION_OFFICE})
