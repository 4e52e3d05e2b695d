import time
from typing import Any

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from identity.demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-step code of the demo staff accounts (their secret is public)."

    def handle(self, *args: Any, **options: Any) -> None:
        counter = int(time.time()) // 30
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter)))
