from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity.audit import SEAL_GRACE_SECONDS, audit_seal_backlog, audit_verify


class Command(BaseCommand):
    help = (
        "Check every audit chain; exit non-zero naming the first broken entry of each chain, or "
        "when entries have waited too long for their seal (the sealer is not running)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", action="append", help="Only this chain (e.g. m1, site).")
        parser.add_argument(
            "--seal-grace",
            type=float,
            default=SEAL_GRACE_SECONDS,
            help="Seconds an entry may wait for its seal before that is a failure.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = audit_verify(options["chain"])
        for chain_break in breaks:
            self.stderr.write(f"BROKEN {chain_break}")
        if breaks:
            raise CommandError(f"{len(breaks)} audit chain(s) broken")
        grace = options["seal_grace"]
        backlog = audit_seal_backlog(older_than_seconds=grace)
        if backlog:
            raise CommandError(
                f"{backlog} audit entries unsealed for more than {grace:g} s: "
                "the sealer (celery beat audit-seal) is not keeping up or not running"
            )
        self.stdout.write(self.style.SUCCESS("audit log intact"))
