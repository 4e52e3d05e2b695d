from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Elections and voting")

    def ready(self) -> None:
        from voting import (
            audit_labels,  # noqa: F401  (its actions' words in the audit log)
            outbox,  # noqa: F401  (registers its outbox handlers)
        )
