from typing import Any

from django.core.management.base import BaseCommand

from identity.audit import audit_seal


class Command(BaseCommand):
    help = "Seal committed audit entries into their chains now (Celery beat does this every 5 s)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"sealed {audit_seal()} entries")
