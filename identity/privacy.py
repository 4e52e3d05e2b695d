"""Personal data: which fields hold it and who sees them (kept equal to docs/privacy.md by
tests/privacy), and the hooks through which each app exports and erases a person's data.

identity/ imports none of the apps built on it, so each app names a module in
settings.MEBUKU_PRIVACY_PROVIDERS with three functions (see `PrivacyProvider`); the account
services (identity.services.account) call them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Any, Protocol, cast

from django.conf import settings
from django.utils.functional import Promise

from identity.keys import keyed_hash
from identity.models import User, Verification

# Who may see a field. `self` is the person; `public` anyone; `nobody` no page or export shows
# it (a keyed hash, a secret); `operator` the site operator in the Django admin; `author` the
# author of the proposal the row belongs to; `trustee` an election's trustee. The others are the
# municipal roles of identity.models.Role.
ROLES = frozenset(
    {
        "self",
        "public",
        "nobody",
        "operator",
        "author",
        "trustee",
        "administrator",
        "council",
        "election_office",
        "moderator",
        "counter_clerk",
    }
)

# A field whose name says it may hold personal data; with every reference to an account, such a
# field must be listed below, as personal (PERSONAL_FIELDS) or not (NOT_PERSONAL, with why).
FIELD_PATTERN = re.compile(
    r"email|name|birth|address|person|identity_hash|key_hash|alias|tracker|token|^uid$|"
    r"extra_data|secret|password|session_data|phone|document|last_login|^body$|^text$|note$|"
    r"reason$|payload|^data$|last_error"
)
# The apps whose models the rule covers: ours, and the third-party apps that store people.
APPS = ("identity", "proposals", "debates", "voting", "account", "socialaccount", "mfa", "sessions")

_R = frozenset
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    # Accounts
    "identity.User.email": _R(
        {"self", "administrator", "counter_clerk", "election_office", "operator"}
    ),
    "identity.User.display_name": _R({"public"}),
    "identity.User.first_name": _R({"nobody"}),
    "identity.User.last_name": _R({"nobody"}),
    "identity.User.password": _R({"nobody"}),
    "identity.User.last_login": _R({"operator"}),
    "identity.User.counter_municipality": _R({"counter_clerk", "administrator", "operator"}),
    "account.EmailAddress.user": _R({"self", "operator"}),
    "account.EmailAddress.email": _R({"self", "operator"}),
    "account.EmailConfirmation.email_address": _R({"nobody"}),
    "account.EmailConfirmation.key": _R({"nobody"}),
    "socialaccount.SocialAccount.user": _R({"operator"}),
    "socialaccount.SocialAccount.uid": _R({"operator"}),
    "socialaccount.SocialAccount.extra_data": _R({"operator"}),
    "socialaccount.SocialAccount.last_login": _R({"operator"}),
    "socialaccount.SocialToken.token": _R({"nobody"}),
    "socialaccount.SocialToken.token_secret": _R({"nobody"}),
    "mfa.Authenticator.user": _R({"self"}),
    "mfa.Authenticator.data": _R({"nobody"}),
    "sessions.Session.session_data": _R({"nobody"}),
    # Roles and the audit log
    "identity.RoleAssignment.user": _R({"self", "administrator", "operator"}),
    "identity.RoleAssignment.granted_by": _R({"administrator", "operator"}),
    "identity.RoleAssignment.revoked_by": _R({"administrator", "operator"}),
    "identity.AuditEntry.actor": _R({"administrator", "operator"}),
    "identity.AuditEntry.data": _R({"administrator", "operator"}),
    "identity.IdentityProvider.configured_by": _R({"administrator"}),
    "identity.OutboxMessage.payload": _R({"operator"}),
    "identity.OutboxMessage.last_error": _R({"operator"}),
    # Residence
    "identity.Verification.user": _R({"self", "counter_clerk", "administrator"}),
    "identity.Verification.legal_name": _R(
        {"self", "counter_clerk", "administrator", "election_office"}
    ),
    "identity.Verification.birth_date": _R(
        {"self", "counter_clerk", "administrator", "election_office"}
    ),
    "identity.Verification.address": _R(
        {"self", "counter_clerk", "administrator", "election_office"}
    ),
    "identity.Verification.document_type": _R({"self", "counter_clerk", "administrator"}),
    "identity.Verification.identity_hash": _R({"nobody"}),
    "identity.Verification.person_hash": _R({"nobody"}),
    "identity.Verification.verified_by": _R({"counter_clerk", "administrator"}),
    "identity.Verification.ended_by": _R({"counter_clerk", "administrator"}),
    "identity.Verification.end_reason": _R({"self", "counter_clerk", "administrator"}),
    "identity.Verification.end_note": _R({"counter_clerk", "administrator"}),
    "identity.ResidentRegister.imported_by": _R({"administrator", "election_office"}),
    "identity.RegisterEntry.key_hash": _R({"nobody"}),
    "identity.RegisterEntry.person_hash": _R({"nobody"}),
    # Proposals
    "proposals.Proposal.author": _R({"self"}),
    "proposals.Proposal.body": _R({"public"}),
    "proposals.ProposalRevision.body": _R({"public"}),
    "proposals.ProposalRevision.edited_by": _R({"self"}),
    "proposals.Signature.user": _R({"self"}),
    "proposals.Signature.person_key": _R({"nobody"}),
    "proposals.Signature.entered_by": _R({"counter_clerk", "election_office"}),
    "proposals.Signature.invalid_reason": _R({"election_office"}),
    "proposals.Follow.user": _R({"self"}),
    "proposals.Notification.user": _R({"nobody"}),
    "proposals.CommitteeMember.user": _R({"self", "author"}),
    "proposals.Objection.filed_by": _R({"election_office"}),
    "proposals.Objection.text": _R({"election_office"}),
    "proposals.Objection.answered_by": _R({"election_office"}),
    "proposals.CouncilAnswer.answered_by": _R({"council"}),
    "proposals.Collector.name": _R({"author", "election_office", "counter_clerk"}),
    "proposals.Collector.address": _R({"author", "election_office"}),
    "proposals.Collector.appointed_by": _R({"author", "election_office"}),
    "proposals.CollectionBlackout.created_by": _R({"election_office"}),
    "proposals.CollectionBlackout.reason": _R({"public"}),
    "proposals.CouncilDocument.uploaded_by": _R({"council"}),
    # Debates
    "debates.Debate.created_by": _R({"moderator"}),
    "debates.DebateModerator.user": _R({"moderator", "administrator"}),
    "debates.Contribution.author": _R({"public"}),
    "debates.Contribution.body": _R({"public"}),
    "debates.Contribution.hidden_by": _R({"moderator"}),
    "debates.Contribution.hidden_reason": _R({"public"}),
    "debates.Comment.author": _R({"public"}),
    "debates.Comment.body": _R({"public"}),
    "debates.Comment.hidden_by": _R({"moderator"}),
    "debates.Comment.hidden_reason": _R({"public"}),
    "debates.Reaction.user": _R({"self"}),
    "debates.Report.reporter": _R({"moderator"}),
    "debates.Report.reason": _R({"moderator"}),
    "debates.Report.resolved_by": _R({"moderator"}),
    "debates.Participant.user": _R({"nobody"}),
    "debates.Participant.person_key": _R({"nobody"}),
    "debates.Participant.token": _R({"nobody"}),
    "debates.Statement.author": _R({"moderator"}),
    "debates.Statement.text": _R({"public"}),
    "debates.Statement.moderated_by": _R({"moderator"}),
    "debates.Statement.moderation_reason": _R({"moderator"}),
    "debates.Conclusion.published_by": _R({"moderator"}),
    # Voting
    "voting.Election.created_by": _R({"election_office"}),
    "voting.Trustee.user": _R({"election_office", "trustee"}),
    "voting.RollEntry.user": _R({"self"}),
    "voting.RollEntry.person_key": _R({"nobody"}),
    "voting.RollEntry.alias": _R({"public"}),
    "voting.RollExclusion.user": _R({"election_office"}),
    "voting.Ballot.tracker": _R({"public"}),
}

# Fields the pattern catches that hold nothing about a person, and why.
NOT_PERSONAL: dict[str, str] = {
    "identity.Municipality.name": "the municipality's name",
    "identity.Municipality.name_en": "the municipality's name",
    "socialaccount.SocialApp.name": "an identity provider's configuration",
    "socialaccount.SocialApp.secret": "an identity provider's client secret, not a person's",
    "proposals.ProposalType.name": "a kind of proposal",
    "proposals.TimelineEvent.note": "the public history of a proposal (decision labels)",
    "proposals.CouncilDocument.original_name": (
        "the file name the council gave an attached document (a public record once answered)"
    ),
    "voting.Question.text": "an election question",
    "voting.Trustee.public_key": "an election key (the trustee is Trustee.user)",
}


def personal_fields() -> dict[str, frozenset[str]]:
    return PERSONAL_FIELDS


def person_keys_of(user: User) -> set[str]:
    """The keyed person hashes under which this person's legal acts are recorded (the same key
    identity.eligibility gives every act), from every verification the account ever had."""
    hashes = Verification.objects.filter(user=user).values_list("person_hash", flat=True)
    return {keyed_hash("act-person", person_hash) for person_hash in set(hashes)}


@dataclass(frozen=True)
class Refusal:
    """Why the account cannot be deleted yet: a stable code and a message for the person."""

    code: str
    message: str | Promise


Section = list[dict[str, Any]]


class PrivacyProvider(Protocol):
    """What an app's privacy module offers (e.g. proposals/privacy.py)."""

    def export(self, user: User, person_keys: set[str]) -> dict[str, Section]:
        """The person's data held by the app, section by section, one dict per row."""

    def refusals(self, user: User) -> list[Refusal]:
        """What in the app keeps the account from being deleted now."""

    def erase(self, user: User, person_keys: set[str], now: datetime) -> dict[str, int]:
        """Erase or unlink the person's data inside the caller's transaction; counts for the
        audit entry (numbers only)."""


def providers() -> list[PrivacyProvider]:
    return [
        cast(PrivacyProvider, import_module(path))
        for path in getattr(settings, "MEBUKU_PRIVACY_PROVIDERS", [])
    ]
