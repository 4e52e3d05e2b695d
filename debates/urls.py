from django.urls import path

from debates import exports, views, views_converge, views_staff

app_name = "debates"

urlpatterns = [
    path("", views.debate_list, name="list"),
    path("<int:debate_id>/", views.debate_detail, name="detail"),
    # Diverge.
    path("<int:debate_id>/contribute/", views.contribution_add, name="contribute"),
    path(
        "<int:debate_id>/contributions/<int:contribution_id>/comment/",
        views.comment_add,
        name="comment",
    ),
    path(
        "<int:debate_id>/contributions/<int:contribution_id>/react/",
        views.reaction_toggle,
        name="react",
    ),
    path(
        "<int:debate_id>/contributions/<int:contribution_id>/report/",
        views.report_file,
        name="report_contribution",
    ),
    path(
        "<int:debate_id>/comments/<int:comment_id>/report/",
        views.report_file,
        name="report_comment",
    ),
    # Converge and the report.
    path(
        "<int:debate_id>/statements/<int:statement_id>/vote/",
        views_converge.vote,
        name="vote",
    ),
    path("<int:debate_id>/statements/new/", views_converge.statement_propose, name="propose"),
    path("<int:debate_id>/report/", views_converge.opinion_report, name="opinions"),
    # Public record (CSV; the views live in debates.exports).
    path("<int:debate_id>/contributions.csv", exports.contributions_csv, name="contributions_csv"),
    path("<int:debate_id>/statements.csv", exports.statements_csv, name="statements_csv"),
    path("<int:debate_id>/votes.csv", exports.votes_csv, name="votes_csv"),
    path("<int:debate_id>/summary.csv", exports.summary_csv, name="summary_csv"),
    # Moderators.
    path("new/", views_staff.debate_new, name="staff_new"),
    path("<int:debate_id>/moderation/", views_staff.moderation_home, name="staff_home"),
    path("<int:debate_id>/moderation/phases/", views_staff.phases_edit, name="staff_phases"),
    path("<int:debate_id>/moderation/advance/", views_staff.phase_advance, name="staff_advance"),
    path(
        "<int:debate_id>/moderation/contributions/<int:contribution_id>/hide/",
        views_staff.content_hide,
        name="staff_hide_contribution",
    ),
    path(
        "<int:debate_id>/moderation/comments/<int:comment_id>/hide/",
        views_staff.content_hide,
        name="staff_hide_comment",
    ),
    path(
        "<int:debate_id>/moderation/reports/<int:report_id>/resolve/",
        views_staff.report_resolve,
        name="staff_report_resolve",
    ),
    path(
        "<int:debate_id>/moderation/statements/",
        views_staff.statements,
        name="staff_statements",
    ),
    path(
        "<int:debate_id>/moderation/statements/<int:statement_id>/publish/",
        views_staff.statement_publish,
        name="staff_statement_publish",
    ),
    path(
        "<int:debate_id>/moderation/statements/<int:statement_id>/reject/",
        views_staff.statement_reject,
        name="staff_statement_reject",
    ),
    path(
        "<int:debate_id>/moderation/statements/<int:statement_id>/edit/",
        views_staff.statement_edit,
        name="staff_statement_edit",
    ),
    path("<int:debate_id>/moderation/similar/", views_staff.similar, name="staff_similar"),
    path("<int:debate_id>/moderation/merge/", views_staff.merge, name="staff_merge"),
    path(
        "<int:debate_id>/moderation/conclusion/",
        views_staff.conclusion,
        name="staff_conclusion",
    ),
    path(
        "<int:debate_id>/moderation/proposal-draft/",
        views_staff.proposal_draft,
        name="staff_proposal_draft",
    ),
]
