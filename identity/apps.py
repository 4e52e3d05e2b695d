from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = _("Identity, municipalities and audit")

    def ready(self) -> None:
        from identity import signals  # noqa: F401  (connects allauth's signals to the audit log)
