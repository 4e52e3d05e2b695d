"""The project's own app entry: registers the project-wide system checks (config/checks.py)."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "mebuku_config"
    verbose_name = "Mebuku configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers them)
