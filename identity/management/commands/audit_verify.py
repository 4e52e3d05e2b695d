from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity.audit import audit_verify


class Command(BaseCommand):
    help = "Check every audit chain; exit non-zero naming the first broken entry of each chain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", action="append", help="Only this chain (e.g. m1, site).")

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = audit_verify(options["chain"])
        for chain_break in breaks:
            self.stderr.write(f"BROKEN {chain_break}")
        if breaks:
            raise CommandError(f"{len(breaks)} audit chain(s) broken")
        self.stdout.write(self.style.SUCCESS("audit log intact"))
