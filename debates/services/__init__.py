"""Every write of the debates app: permission and state checked, atomic, audited."""

from debates.services.diverge import comment_add, contribution_add, reaction_toggle
from debates.services.moderation import content_hide, report_file, report_resolve
from debates.services.setup import DebateDraft, PhaseSpec, debate_create, phase_current, phases_set

__all__ = [
    "DebateDraft",
    "PhaseSpec",
    "comment_add",
    "content_hide",
    "contribution_add",
    "debate_create",
    "phase_current",
    "phases_set",
    "reaction_toggle",
    "report_file",
    "report_resolve",
]
