from django.urls import path

from identity.views import account, counter, health, opendata, pages, verification
from identity.views import oidc as oidc_views
from identity.views import register as register_views

app_name = "identity"

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("account/", pages.account, name="account"),
    path("account/my-data.json", account.export_json_view, name="account_export_json"),
    path("account/my-data.csv", account.export_csv_view, name="account_export_csv"),
    path("account/delete/", account.delete, name="account_delete"),
    path("opendata/", opendata.open_data, name="opendata"),
    path("opendata/all.zip", opendata.open_data_zip, name="opendata_zip"),
    path("staff/", pages.staff_dashboard, name="staff"),
    path("staff/roles/", pages.roles, name="roles"),
    path("staff/settings/", pages.settings_page, name="settings"),
    path("staff/roles/<int:assignment_id>/revoke/", pages.role_revoke, name="role_revoke"),
    path("staff/audit/", pages.audit_log, name="audit"),
    path("staff/audit.csv", pages.audit_csv, name="audit_csv"),
    path("staff/register/", register_views.register_import, name="register_import"),
    path("verify/register/", register_views.register_match, name="verify_register"),
    path("verify/oidc/", oidc_views.verify, name="oidc_verify"),
    path("verify/oidc/done/", oidc_views.verify_done, name="oidc_done"),
    path("staff/identity-provider/", oidc_views.identity_provider, name="identity_provider"),
    path("verification/", verification.my_verification, name="my_verification"),
    path("staff/counter/", counter.search, name="counter"),
    path("staff/counter/new/", counter.account_create, name="counter_account_create"),
    path("staff/counter/people/<int:user_id>/", counter.person, name="counter_person"),
    path("staff/counter/people/<int:user_id>/verify/", counter.verify, name="counter_verify"),
    path("staff/counter/people/<int:user_id>/letter/", counter.letter, name="counter_letter"),
    path(
        "staff/counter/verifications/<int:verification_id>/revoke/",
        counter.revoke,
        name="counter_revoke",
    ),
]
