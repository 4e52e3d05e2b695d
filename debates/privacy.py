"""A person's data in debates/ (identity.privacy.PrivacyProvider; listed in
settings.MEBUKU_PRIVACY_PROVIDERS).

Their agree/disagree votes are not exported: nothing the site produces may link a person to a
debate vote (docs/decisions.md, "The account export leaves out debate votes and ballots")."""

from __future__ import annotations

from datetime import datetime

from debates.models import Comment, Contribution, Reaction, Report, Statement
from identity.models import User
from identity.privacy import Refusal, Section


def export(user: User, person_keys: set[str]) -> dict[str, Section]:
    contributions = Contribution.objects.filter(author=user).select_related("debate")
    comments = Comment.objects.filter(author=user).select_related("contribution__debate")
    statements = Statement.objects.filter(author=user).select_related("debate")
    return {
        "debate_contributions": [
            {
                "debate": c.debate.question,
                "title": c.title,
                "text": c.body,
                "created_at": c.created_at,
                "hidden_at": c.hidden_at,
            }
            for c in contributions.order_by("pk")
        ],
        "debate_comments": [
            {
                "debate": c.contribution.debate.question,
                "contribution": c.contribution_id,
                "text": c.body,
                "created_at": c.created_at,
                "hidden_at": c.hidden_at,
            }
            for c in comments.order_by("pk")
        ],
        "debate_statements": [
            {
                "debate": s.debate.question,
                "text": s.text,
                "status": s.status,
                "created_at": s.created_at,
            }
            for s in statements.order_by("pk")
        ],
        "debate_reactions": [
            {"contribution": r.contribution_id, "created_at": r.created_at}
            for r in Reaction.objects.filter(user=user).order_by("pk")
        ],
        "debate_reports": [
            {"reason": r.reason, "created_at": r.created_at, "resolved_at": r.resolved_at}
            for r in Report.objects.filter(reporter=user).order_by("pk")
        ],
    }


def refusals(user: User) -> list[Refusal]:
    # Moderators hold a municipal role, which identity refuses already.
    return []


def erase(user: User, person_keys: set[str], now: datetime) -> dict[str, int]:
    """What was written stays part of the debate's public record, shown as by a former user (the
    name is the account's, and the account is erased); votes keep counting through their
    participant row, which never named the person to anyone."""
    return {}
