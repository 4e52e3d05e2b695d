from django.urls import path

from identity import views

app_name = "identity"

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("staff/", views.staff_dashboard, name="staff"),
    path("staff/roles/", views.roles, name="roles"),
    path("staff/roles/<int:assignment_id>/revoke/", views.role_revoke, name="role_revoke"),
    path("staff/audit/", views.audit_log, name="audit"),
    path("staff/audit.csv", views.audit_csv, name="audit_csv"),
]
