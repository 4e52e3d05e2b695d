import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from voting.demo import demo_trustee_key
from voting.trustee import key_file_json


class Command(BaseCommand):
    help = (
        "Write the key file of a demo trustee (trustee1/trustee2@<slug>.example.jp) for the demo "
        "elections, for `python -m voting.trustee decrypt`. Demo keys come from public seeds: "
        "they are not secret and must never be used for a real election."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="maebashi or kamakura")
        parser.add_argument("number", type=int, choices=[1, 2], help="trustee 1 or 2")
        parser.add_argument("--election", choices=["open", "finished"], default="open")
        parser.add_argument("--out", required=True, help="key file to create (never overwritten)")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if out.exists():
            raise CommandError(f"{out} exists; refusing to overwrite a key")
        key = demo_trustee_key(options["slug"], options["election"], options["number"])
        out.write_text(json.dumps(key_file_json(key, None), indent=2) + "\n", encoding="utf-8")
        out.chmod(0o600)
        self.stdout.write(f"wrote {out}")
