from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity import services
from identity.errors import DomainError
from identity.models import Municipality, Role


class Command(BaseCommand):
    help = "Grant a role as the system, e.g. a municipality's first administrator (audited)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("municipality", help="slug")
        parser.add_argument("email")
        parser.add_argument("role", choices=Role.values)

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = Municipality.objects.filter(slug=options["municipality"]).first()
        if municipality is None:
            raise CommandError("no such municipality")
        try:
            services.role_grant(
                actor=None, municipality=municipality, email=options["email"], role=options["role"]
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(self.style.SUCCESS("granted"))
