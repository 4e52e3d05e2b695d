from django.urls import path

from voting import exports, views, views_office, views_trustee

app_name = "voting"

urlpatterns = [
    # Public and voters.
    path("", views.election_list, name="list"),
    path("mine/", views.my_elections, name="mine"),
    path("<int:election_id>/", views.election_detail, name="detail"),
    path("<int:election_id>/vote/", views.ballot, name="vote"),
    path("<int:election_id>/board/", views.board, name="board"),
    path(
        "<int:election_id>/board/audited/<str:tracker>/",
        views.audited_ballot,
        name="audited_ballot",
    ),
    path("<int:election_id>/results/", views.results, name="results"),
    path("<int:election_id>/record.json", exports.record_json, name="record"),
    path("<int:election_id>/results.csv", exports.results_csv, name="results_csv"),
    path("<int:election_id>/board.csv", exports.board_csv, name="board_csv"),
    # Trustees.
    path("<int:election_id>/trustee/", views_trustee.trustee_page, name="trustee"),
    path("<int:election_id>/trustee/key/", views_trustee.trustee_key, name="trustee_key"),
    path("<int:election_id>/trustee/tally.json", views_trustee.trustee_tally, name="trustee_tally"),
    path(
        "<int:election_id>/trustee/factors/",
        views_trustee.trustee_factors,
        name="trustee_factors",
    ),
    # The election office.
    path("office/", views_office.office_list, name="office_list"),
    path("office/new/", views_office.office_edit, name="office_new"),
    path("office/<int:election_id>/", views_office.office_detail, name="office_detail"),
    path("office/<int:election_id>/edit/", views_office.office_edit, name="office_edit"),
    path(
        "office/<int:election_id>/questions/",
        views_office.office_questions,
        name="office_questions",
    ),
    path(
        "office/<int:election_id>/trustees/",
        views_office.office_trustee_appoint,
        name="office_trustee_appoint",
    ),
    path(
        "office/<int:election_id>/trustees/<int:trustee_id>/remove/",
        views_office.office_trustee_remove,
        name="office_trustee_remove",
    ),
    path("office/<int:election_id>/freeze/", views_office.office_freeze, name="office_freeze"),
    path(
        "office/<int:election_id>/roll-report/",
        views_office.office_roll_report,
        name="office_roll_report",
    ),
    path("office/<int:election_id>/close/", views_office.office_close, name="office_close"),
    path("office/<int:election_id>/tally/", views_office.office_tally, name="office_tally"),
    path("office/<int:election_id>/publish/", views_office.office_publish, name="office_publish"),
]
