"""After restoring a backup (docs/operations.md): is what came back whole? Every audit chain
verifies end to end against its published checkpoints, and every published election's stored
record still has the SHA-256 published with its results and passes the election verifier."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from identity.audit import audit_verify
from voting.election.verifier import verify_record
from voting.models import Result
from voting.services import record_bytes


class Command(BaseCommand):
    help = "Verify the audit chains and every stored election record of this database."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [f"audit chain broken: {chain_break}" for chain_break in audit_verify()]
        records = 0
        for result in Result.objects.select_related("election").order_by("election_id"):
            records += 1
            name = f"election {result.election_id}"
            digest = hashlib.sha256(record_bytes(result.record)).hexdigest()
            if digest != result.record_sha256:
                problems.append(f"{name}: record does not match its published SHA-256")
                continue
            report = verify_record(result.record, workers=1)
            problems += [f"{name}: {failure}" for failure in report.failures[:5]]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the restored data")
        self.stdout.write(
            self.style.SUCCESS(f"audit chains intact; {records} election record(s) verified")
        )
