"""The audit log's words for the debates app's actions (identity.audit_display)."""

from django.utils.translation import gettext_lazy as _

from identity.audit_display import register

register(
    {
        "debate.create": _("Debate created"),
        "debate.phases_set": _("Debate phases set"),
        "debate.phase_advance": _("Debate moved to its next phase"),
        "debate.contribution_add": _("Idea posted"),
        "debate.comment_add": _("Comment posted"),
        "debate.reaction_add": _("Marked as helpful"),
        "debate.report_file": _("Reported to the moderators"),
        "debate.report_resolve": _("Report resolved"),
        "debate.contribution_hide": _("Idea hidden by a moderator"),
        "debate.comment_hide": _("Comment hidden by a moderator"),
        "debate.statement_create": _("Statement created"),
        "debate.statement_submit": _("Statement suggested"),
        "debate.statement_publish": _("Statement published"),
        "debate.statement_edit": _("Statement edited"),
        "debate.summary_publish": _("Debate conclusion published"),
    },
    {
        "debate": _("Debate"),
        "contribution": _("Idea"),
        "parent": _("Reply to"),
        "phases": _("Phases"),
        "started": _("Started"),
        "planned_start": _("Planned start"),
        "outcome": _("Outcome"),
        "sources": _("Sources"),
        "sources_added": _("Sources added"),
        "reports_resolved": _("Reports resolved"),
        "residence_required": _("Residents only"),
        "min_age": _("Minimum age"),
    },
)
