"""Who may file and sign proposals: the rules come from the shared eligibility function."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser

from identity.eligibility import Eligibility, EligibilityRule, eligibility
from identity.models import Municipality, Role, User
from identity.permissions import Decision, staff_access
from proposals.models import ProposalType


def signer_rule(proposal_type: ProposalType) -> EligibilityRule:
    return EligibilityRule(
        min_age=proposal_type.min_age,
        residence_required=True,
        register_date=proposal_type.register_date,
    )


def can_sign(
    user: User | AnonymousUser,
    municipality: Municipality,
    proposal_type: ProposalType,
    at: datetime,
) -> Eligibility:
    return eligibility(user, municipality, at, signer_rule(proposal_type))


def can_file(
    user: User | AnonymousUser,
    municipality: Municipality,
    proposal_type: ProposalType,
    at: datetime,
) -> Eligibility:
    """Filing needs what signing needs: a verified resident who meets the type's age rule."""
    return can_sign(user, municipality, proposal_type, at)


def can_object(
    user: User | AnonymousUser,
    municipality: Municipality,
    proposal_type: ProposalType,
    at: datetime,
) -> Eligibility:
    """An objection during the public inspection is for the persons concerned (Local Autonomy
    Act art. 74-2 §4): the electors who could sign the demand, not any account, since the
    election office must answer each one before it can finalize."""
    return can_sign(user, municipality, proposal_type, at)


def can_manage_types(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ADMINISTRATOR})


def can_enter_register_size(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality, {Role.ELECTION_OFFICE})


def can_certify(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.ELECTION_OFFICE})


def can_review(user: User | AnonymousUser, municipality: Municipality | None) -> Decision:
    return staff_access(user, municipality, {Role.COUNCIL})


def can_enter_offline_signatures(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality, {Role.COUNTER_CLERK})
