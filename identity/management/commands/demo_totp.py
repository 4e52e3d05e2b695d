from typing import Any

from django.core.management.base import BaseCommand

from identity.demo import DEMO_TOTP_SECRET
from identity.totp import totp_code


class Command(BaseCommand):
    help = "Print the current two-step code of the demo staff accounts (their secret is public)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(totp_code(DEMO_TOTP_SECRET))
