from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DebatesConfig(AppConfig):
    name = "debates"
    verbose_name = _("Debates")

    def ready(self) -> None:
        from debates import (
            audit_labels,  # noqa: F401  (its actions' words in the audit log)
            home,  # noqa: F401  (its card on the municipality home page)
            outbox,  # noqa: F401  (registers its outbox handlers)
        )
