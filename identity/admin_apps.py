"""Django admin with the operator's site (identity/admin_site.py); no model imports here, as an
INSTALLED_APPS entry is imported before the models are ready."""

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "identity.admin_site.OperatorAdminSite"
