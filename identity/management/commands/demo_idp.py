"""Run the demo's identity providers (identity/demo_idp.py) until stopped: `make run` starts it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess  # nosec B404 (starts the demo's Node provider, a fixed command)
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from identity import demo_idp


class Command(BaseCommand):
    help = "Run the demo municipalities' OpenID Connect identity providers (Node) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site",
            action="append",
            dest="sites",
            help="Origin the site is reached at (repeatable); the providers send residents back "
            "there. Default: http://127.0.0.1:8000 and http://localhost:8000.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        node = shutil.which("node")
        provider_dir = settings.BASE_DIR / "tests" / "oidc"
        if node is None or not (provider_dir / "node_modules" / "oidc-provider").is_dir():
            raise CommandError(
                "The demo identity provider needs Node.js and `npm ci --prefix tests/oidc` "
                "(make install runs it)."
            )
        sites = tuple(options["sites"] or demo_idp.DEFAULT_SITES)
        processes = [
            subprocess.Popen(  # noqa: S603  # (fixed command, our config)  # nosec B603
                [node, str(provider_dir / "provider.mjs")],
                cwd=provider_dir,
                env={
                    **os.environ,
                    "OIDC_TEST_CONFIG": json.dumps(demo_idp.provider_config(slug, sites)),
                },
            )
            for slug in demo_idp.SLUGS
        ]

        def stop(signum: int, frame: FrameType | None) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            raise CommandError("a demo identity provider exited")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
