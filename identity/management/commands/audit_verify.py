from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from identity.audit import SEAL_GRACE_SECONDS, audit_seal_backlog, audit_verify


def database_description() -> str:
    """Which database this command reads, without its password: a check of the wrong database
    (the embedded SQLite file instead of the site's PostgreSQL) must be visible."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite file {settings['NAME']}"
    where = settings.get("HOST") or "local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"{connection.vendor} database {settings['NAME']!r} on {where}{port}"


class Command(BaseCommand):
    help = (
        "Check every audit chain of the database the settings name (DATABASE_URL, else the "
        "embedded SQLite file db.sqlite3); exit non-zero naming the first broken entry of each "
        "chain, or when entries have waited too long for their seal (the sealer is not running)."
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
        described = database_description()
        if connection.vendor == "sqlite":
            name = str(connection.settings_dict["NAME"])
            # Opening a missing SQLite file creates it empty: check first, so a mistyped or
            # forgotten DATABASE_URL leaves no stray file and says what was read.
            if name != ":memory:" and "mode=memory" not in name and not Path(name).exists():
                raise CommandError(
                    f"No database to check: the {described} does not exist. Set DATABASE_URL "
                    "to the site's database (as `make run` was given), or run `make run` first."
                )
        self.stdout.write(f"Checking the audit log in the {described}")
        try:
            breaks = audit_verify(options["chain"])
        except DatabaseError as error:
            raise CommandError(
                f"Cannot read the audit log in the {described} ({error}). Is DATABASE_URL the "
                "site's database, and has `manage.py migrate` run?"
            ) from None
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
