from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Create or complete the demo data (idempotent): every app's seeder in MEBUKU_DEMO_SEEDERS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for dotted in settings.MEBUKU_DEMO_SEEDERS:
            import_string(dotted)()
            self.stdout.write(f"seeded {dotted}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
