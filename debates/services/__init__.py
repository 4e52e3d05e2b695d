"""Every write of the debates app: permission and state checked, atomic, audited.

Backend API for pages (views, API, consumers call only these; all raise identity.errors with a
stable ``code``):

Writes (``debates.services``):
- setup: ``debate_create(actor, municipality, draft)``, ``phases_set(actor, debate_id, phases)``,
  ``phase_advance(actor, debate_id) -> Phase`` (end the running phase now, start the next),
  ``phase_current(debate, at)``.
- diverge: ``contribution_add``, ``comment_add``, ``reaction_toggle``.
- moderation: ``content_hide``, ``report_file``, ``report_resolve``.
- converge: ``statement_create_from_contributions(actor, debate_id, text, contribution_ids=())``
  (moderator, published at once), ``statement_edit(actor, statement_id, text,
  add_contribution_ids=())`` (refused with ``has_votes`` once voted on),
  ``statement_submit(actor, debate_id, text)`` (participant; pending),
  ``statement_moderate(actor, statement_id, publish, reason="")``,
  ``vote_cast(actor, statement_id, value) -> VoteResult`` (value 1 agree, -1 disagree, 0 pass).
- conclude: ``summary_publish(actor, debate_id, summary, outcome) -> Conclusion`` (publish or
  correct; from the start of the conclude phase), ``conclusion_to_proposal_draft(actor,
  debate_id, type_id=None) -> Proposal`` (attach to the debate's proposal, or file a draft).

Reads (``debates.selectors``): ``debates_public(municipality)``, ``debate_detail(municipality,
debate_id, at=None) -> DebateDetail`` (phases, current, conclusion, snapshot),
``phase_running(phases, at)``, ``contributions_public(debate, sort="new"|"discussed"|"random",
seed=...)``, ``comments_threaded(contribution)``, ``statements_visible(debate, user)``,
``statements_with_counts(debate) -> list[StatementRow]`` (overall + per-group counts),
``user_votes(debate, user)``, ``next_statements(debate, user, n)``, ``opinion_report(debate) ->
OpinionReport | None``, ``snapshot_latest(debate)``, ``moderation_queue(debate)``.
Similar contributions: ``debates.similarity.similar_groups(debate_id) -> list[SimilarGroup]``.
CSV views (``debates.exports``, each ``(request, debate_id)``): ``contributions_csv``,
``statements_csv``, ``votes_csv``, ``summary_csv``.

Live events (``debates.events.publish``, after commit): ``contribution_added`` (contribution_add),
``statement_published`` (statement_create_from_contributions, statement_moderate publish),
``phase_changed`` (phase_advance, phases_set when the running phase changes, beat
``tasks.phases_announce``), ``opinions_updated`` (the debounced ``tasks.opinions_recompute``
after votes; see ``debates.services.opinions``; bulk writers use ``opinions_deferred``).
"""

from debates.services.conclude import conclusion_to_proposal_draft, summary_publish
from debates.services.converge import (
    VoteResult,
    statement_create_from_contributions,
    statement_edit,
    statement_moderate,
    statement_submit,
    vote_cast,
)
from debates.services.diverge import comment_add, contribution_add, reaction_toggle
from debates.services.moderation import content_hide, report_file, report_resolve
from debates.services.setup import (
    DebateDraft,
    PhaseSpec,
    debate_create,
    phase_advance,
    phase_current,
    phases_announce_due,
    phases_set,
)

__all__ = [
    "DebateDraft",
    "PhaseSpec",
    "VoteResult",
    "comment_add",
    "conclusion_to_proposal_draft",
    "content_hide",
    "contribution_add",
    "debate_create",
    "phase_advance",
    "phase_current",
    "phases_announce_due",
    "phases_set",
    "reaction_toggle",
    "report_file",
    "report_resolve",
    "statement_create_from_contributions",
    "statement_edit",
    "statement_moderate",
    "statement_submit",
    "summary_publish",
    "vote_cast",
]
