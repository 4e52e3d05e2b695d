"""The conclude phase: the moderators' summary and outcome, and turning it into a proposal."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debates import phases
from debates.models import Conclusion, Phase
from debates.services.common import debate_get, require_moderator
from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput
from identity.models import User
from proposals.models import Proposal, ProposalType
from proposals.services import ProposalDraft, proposal_file_within


@transaction.atomic(durable=True)
def summary_publish(*, actor: User, debate_id: int, summary: str, outcome: str) -> Conclusion:
    """Publish (or correct) the conclusion once the conclude phase has started."""
    debate = debate_get(debate_id, lock=True)
    require_moderator(actor, debate)
    now = timezone.now()
    if not Phase.objects.filter(
        debate=debate, kind=phases.CONCLUDE.key, starts_at__lte=now
    ).exists():
        raise Conflict(
            _("The summary can be published once the conclusion phase has started."),
            code="not_concluding",
        )
    summary_text, outcome_text = summary.strip(), outcome.strip()
    if not summary_text or not outcome_text:
        raise InvalidInput(_("Write both the summary and the outcome."), code="incomplete")
    if len(summary_text) > 50_000 or len(outcome_text) > 5_000:
        raise InvalidInput(_("The text is too long."), code="too_long")
    conclusion = Conclusion.objects.filter(debate=debate).first()
    created = conclusion is None
    if conclusion is None:
        conclusion = Conclusion.objects.create(
            debate=debate,
            summary=summary_text,
            outcome=outcome_text,
            published_at=now,
            published_by=actor,
            updated_at=now,
        )
    else:
        conclusion.summary, conclusion.outcome, conclusion.updated_at = (
            summary_text,
            outcome_text,
            now,
        )
        conclusion.save(update_fields=["summary", "outcome", "updated_at"])
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action="debate.summary_publish" if created else "debate.summary_update",
        target=debate,
        data={"outcome": outcome_text},
    )
    return conclusion


@transaction.atomic(durable=True)
def conclusion_to_proposal_draft(
    *, actor: User, debate_id: int, type_id: int | None = None
) -> Proposal:
    """Carry a published conclusion into the proposals app, once.

    - The debate discusses a proposal already: a moderator attaches the conclusion to it.
    - Otherwise the actor (a resident, or a moderator who may file there) files a *draft*
      proposal of `type_id` (default: the municipality's first active type) through the
      proposals app's filing service (its permission rules apply), with the question as title,
      the outcome as summary and the summary as text; they edit and open it from the proposal
      pages as with any draft.
    """
    debate = debate_get(debate_id, lock=True)
    conclusion = Conclusion.objects.select_for_update().filter(debate=debate).first()
    if conclusion is None:
        raise Conflict(_("No conclusion has been published yet."), code="no_conclusion")
    if conclusion.proposal_id is not None:
        raise Conflict(
            _("This conclusion has been carried into a proposal already."), code="already_linked"
        )
    if debate.proposal_id is not None:
        require_moderator(actor, debate)
        proposal = Proposal.objects.get(pk=debate.proposal_id)
        action = "debate.conclusion_attach"
    else:
        if type_id is None:
            kind = (
                ProposalType.objects.filter(municipality=debate.municipality, is_active=True)
                .order_by("pk")
                .first()
            )
            if kind is None:
                raise Conflict(_("No proposal type is open here."), code="no_proposal_type")
            type_id = kind.pk
        body = f"{conclusion.summary}\n\n---\n\n{conclusion.outcome}"
        proposal = proposal_file_within(
            actor=actor,
            municipality=debate.municipality,
            type_id=type_id,
            draft=ProposalDraft(
                title=debate.question[:120], summary=conclusion.outcome[:400], body=body
            ),
        )
        action = "debate.conclusion_to_proposal"
    conclusion.proposal = proposal
    conclusion.save(update_fields=["proposal"])
    audit_record(
        actor=actor,
        municipality=debate.municipality,
        action=action,
        target=debate,
        data={"proposal": proposal.pk},
    )
    return proposal
