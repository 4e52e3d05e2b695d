"""Who may file and sign proposals: the rules come from the shared eligibility function."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser

from identity.eligibility import Eligibility, EligibilityRule, eligibility
from identity.models import Municipality, Role, User
from identity.permissions import Decision, staff_access
from proposals.models import CommitteeMember, Proposal, ProposalType


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


def can_read_council_documents(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    """Before the answer is published, a proposal's council documents are the council's working
    papers: its members and the municipality's administrators read them."""
    return staff_access(user, municipality, {Role.COUNCIL, Role.ADMINISTRATOR})


def can_enter_offline_signatures(
    user: User | AnonymousUser, municipality: Municipality | None
) -> Decision:
    return staff_access(user, municipality, {Role.COUNTER_CLERK})


def is_editor(user: User | AnonymousUser, proposal: Proposal) -> bool:
    """Who may edit a proposal's text: its author, or a promoter who has confirmed (the
    proposal's state is the editing service's to check)."""
    if not user.is_authenticated:
        return False
    if proposal.author_id == user.pk:
        return True
    return CommitteeMember.objects.filter(
        proposal=proposal, user_id=user.pk, confirmed_at__isnull=False
    ).exists()
