from django.urls import path

from proposals import (
    views,
    views_administrator,
    views_council,
    views_counter,
    views_direct_demand,
    views_election_office,
)

app_name = "proposals"

urlpatterns = [
    path("", views.proposal_list, name="list"),
    path("proposals.csv", views.proposals_csv, name="csv"),
    path("answers.csv", views.answers_csv, name="answers_csv"),
    path("<int:proposal_id>/daily.csv", views.daily_csv, name="daily_csv"),
    path(
        "<int:proposal_id>/chart-narrow.svg",
        views.signature_chart,
        {"size": "narrow"},
        name="chart_narrow",
    ),
    path(
        "<int:proposal_id>/chart-wide.svg",
        views.signature_chart,
        {"size": "wide"},
        name="chart_wide",
    ),
    path("<int:proposal_id>/signatories.csv", views.signatories_csv, name="signatories_csv"),
    path(
        "<int:proposal_id>/documents/<int:document_id>/",
        views.council_document,
        name="document",
    ),
    path("new/", views.proposal_new, name="new"),
    path("<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("<int:proposal_id>/edit/", views.proposal_edit, name="edit"),
    path("<int:proposal_id>/sign/", views.proposal_sign, name="sign"),
    path(
        "<int:proposal_id>/withdraw-signature/", views.signature_withdraw, name="withdraw_signature"
    ),
    path("<int:proposal_id>/open/", views.collection_open, name="open"),
    # Resident extras on the proposal page.
    path("<int:proposal_id>/follow/", views.follow, name="follow"),
    path("<int:proposal_id>/unfollow/", views.unfollow, name="unfollow"),
    path("<int:proposal_id>/committee/invite/", views.committee_invite, name="committee_invite"),
    path("<int:proposal_id>/committee/accept/", views.committee_accept, name="committee_accept"),
    path("<int:proposal_id>/committee/decline/", views.committee_decline, name="committee_decline"),
    path("<int:proposal_id>/withdraw/", views.proposal_withdraw, name="withdraw"),
    path("<int:proposal_id>/close/", views.collection_close, name="close"),
    path("<int:proposal_id>/objections/", views.objection_file, name="objection_file"),
    path("<int:proposal_id>/collectors/", views_direct_demand.collectors, name="collectors"),
    path(
        "<int:proposal_id>/collectors/<int:collector_id>/revoke/",
        views_direct_demand.collector_revoke,
        name="collector_revoke",
    ),
    path("<int:proposal_id>/sheets.pdf", views_direct_demand.signature_sheets, name="sheets"),
    # Staff pages.
    path("staff/proposal-types/", views_administrator.type_list, name="staff_types"),
    path("staff/proposal-types/new/", views_administrator.type_edit, name="staff_type_new"),
    path(
        "staff/proposal-types/<int:type_id>/", views_administrator.type_edit, name="staff_type_edit"
    ),
    path("staff/register-size/", views_election_office.register_list, name="staff_register"),
    path(
        "staff/register-size/<int:type_id>/",
        views_election_office.register_edit,
        name="staff_register_edit",
    ),
    path(
        "staff/certification/",
        views_election_office.certification_queue,
        name="staff_certification",
    ),
    path(
        "staff/certification/<int:proposal_id>/",
        views_election_office.certification_detail,
        name="staff_certification_detail",
    ),
    path(
        "staff/certification/<int:proposal_id>/signatures/<int:signature_id>/invalidate/",
        views_election_office.signature_invalidate,
        name="staff_signature_invalidate",
    ),
    path(
        "staff/certification/<int:proposal_id>/publish/",
        views_election_office.certification_publish,
        name="staff_certification_publish",
    ),
    path(
        "staff/certification/<int:proposal_id>/objections/<int:objection_id>/answer/",
        views_election_office.objection_answer,
        name="staff_objection_answer",
    ),
    path(
        "staff/certification/<int:proposal_id>/finalize/",
        views_election_office.certification_finalize,
        name="staff_certification_finalize",
    ),
    path("staff/council/", views_council.council_queue, name="staff_council"),
    path(
        "staff/council/overdue.csv", views_council.council_overdue_csv, name="staff_council_overdue"
    ),
    path(
        "staff/council/<int:proposal_id>/",
        views_council.council_detail,
        name="staff_council_detail",
    ),
    path(
        "staff/council/<int:proposal_id>/review/",
        views_council.council_review_start,
        name="staff_council_review",
    ),
    path(
        "staff/council/<int:proposal_id>/clarify/",
        views_council.council_act,
        {"action": "clarify"},
        name="staff_council_clarify",
    ),
    path(
        "staff/council/<int:proposal_id>/documents/",
        views_council.council_act,
        {"action": "document"},
        name="staff_council_document",
    ),
    path(
        "staff/council/<int:proposal_id>/answer/",
        views_council.council_act,
        {"action": "answer"},
        name="staff_council_answer",
    ),
    path("staff/paper-signatures/", views_counter.paper_signatures, name="staff_paper"),
    path("staff/direct-demands/", views_direct_demand.demand_list, name="staff_demands"),
    path(
        "staff/direct-demands/<int:proposal_id>/",
        views_direct_demand.demand_detail,
        name="staff_demand",
    ),
    path(
        "staff/direct-demands/<int:proposal_id>/certificate/",
        views_direct_demand.certificate_issue,
        name="staff_certificate_issue",
    ),
    path("staff/blackouts/", views_direct_demand.blackouts, name="staff_blackouts"),
]
