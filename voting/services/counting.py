"""After voting: closing, the homomorphic tally, trustees' decryptions, publishing."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidInput, PermissionDenied
from identity.models import Municipality, User
from identity.permissions import require
from voting import permissions
from voting.election import (
    build_record,
    combine,
    tally,
    tally_from_json,
    tally_to_json,
    verify_decryption_factors,
)
from voting.election.encoding import canonical
from voting.models import (
    Ballot,
    DecryptionShare,
    Election,
    EncryptedTally,
    Result,
    RollEntry,
    Status,
    Trustee,
)
from voting.services.ballots import db_now
from voting.services.common import election_context, get_election, require_status


def _schedule(task_name: str, election_id: int) -> None:
    """Queue the task once this transaction commits (an outbox message)."""
    from voting.outbox import task_queue

    task_queue(task_name, election_id)


@transaction.atomic(durable=True)
def election_close(*, actor: User | None, municipality: Municipality, election_id: int) -> Election:
    """Close voting. The beat task (actor None) closes at `closes_at`; the office may close at any
    time while frozen. Takes the election row FOR UPDATE, so it waits for every cast in flight
    (they hold it FOR KEY SHARE) and every later cast sees the election closed."""
    if actor is not None:
        require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.FROZEN)
    now = db_now()  # the clock the casts compare with, read once they have all committed
    if actor is None and now < election.closes_at:
        raise Conflict(_("Voting has not reached its end yet."), code="not_due")
    election.status = Status.CLOSED
    election.closed_at = now
    election.updated_at = now
    election.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.close",
        target=election,
        data={"closed_at": now.isoformat(), "early": now < election.closes_at},
    )
    _schedule("compute_tally", election.pk)
    return election


def elections_close_due(*, now: datetime | None = None) -> int:
    """Beat: close every frozen election whose period has ended. Idempotent."""
    now = now or timezone.now()
    closed = 0
    due = Election.objects.filter(status=Status.FROZEN, closes_at__lte=now).select_related(
        "municipality"
    )
    for election in due:
        try:
            election_close(actor=None, municipality=election.municipality, election_id=election.pk)
        except Conflict:
            continue  # closed meanwhile
        closed += 1
    return closed


@transaction.atomic(durable=True)
def tally_compute(
    *, actor: User | None, municipality: Municipality, election_id: int
) -> EncryptedTally:
    """Multiply the counted ballots' ciphertexts (the library's `tally`). Runs after closing (a
    task; the office may also start it). Trustees then download their tally.json."""
    if actor is not None:
        require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.CLOSED)
    assert election.header is not None
    ctx = election_context(election.header)
    counted = Ballot.objects.counted().filter(election=election).order_by("cast_at", "id")
    n = 0

    def contents() -> Any:
        nonlocal n
        for content in counted.values_list("content", flat=True).iterator(chunk_size=2000):
            n += 1
            yield content

    encrypted = tally(ctx.questions, contents())
    record = EncryptedTally.objects.create(
        election=election, tally=tally_to_json(ctx.questions, encrypted), ballots_counted=n
    )
    now = timezone.now()
    election.status = Status.TALLIED
    election.tallied_at = now
    election.updated_at = now
    election.save(update_fields=["status", "tallied_at", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.tally",
        target=election,
        data={"ballots_counted": n},
    )
    return record


@transaction.atomic(durable=True)
def decryption_upload(
    *, actor: User, municipality: Municipality, election_id: int, factors_json: object
) -> DecryptionShare:
    """A trustee uploads factors.json from `python -m voting.trustee decrypt`. Every proof is
    checked (spec check 9); a bad one is refused with the reason. The last trustee's upload
    schedules publishing."""
    election = get_election(election_id, municipality, lock=True)
    trustee = Trustee.objects.filter(election=election, user=actor).first()
    if trustee is None:
        raise PermissionDenied(_("You are not a trustee of this election."), code="not_trustee")
    require_status(election, Status.TALLIED)
    if DecryptionShare.objects.filter(trustee=trustee).exists():
        raise Conflict(_("You have already uploaded your decryption."), code="decryption_exists")
    if not isinstance(factors_json, Mapping):
        raise InvalidInput(
            _("Upload the factors.json written by the trustee tool."), code="decryption_invalid"
        )
    assert election.header is not None
    ctx = election_context(election.header)
    encrypted = tally_from_json(ctx.questions, election.tally.tally)
    errors = verify_decryption_factors(
        ctx.election_hash,
        trustee.tid,
        int(trustee.public_key, 16),
        [q.id for q in ctx.questions],
        encrypted,
        factors_json,
    )
    if errors:
        raise InvalidInput(
            _("The decryption was refused: %(problem)s") % {"problem": errors[0]},
            code="decryption_invalid",
        )
    share = DecryptionShare.objects.create(
        election=election, trustee=trustee, factors=dict(factors_json), verified=True
    )
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.decryption_upload",
        target=share,
        data={"election": election.pk, "trustee": trustee.tid},
    )
    missing = Trustee.objects.filter(election=election, decryption__isnull=True).exists()
    if not missing:
        _schedule("publish_results", election.pk)
    return share


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The record as served (record.json): canonical JSON, so its SHA-256 is stable."""
    return canonical(record)


@transaction.atomic(durable=True)
def election_publish(*, actor: User | None, municipality: Municipality, election_id: int) -> Result:
    """Combine the trustees' factors, build the complete record and store the results with it in
    one transaction: never one without the other."""
    if actor is not None:
        require(permissions.can_manage_elections(actor, municipality))
    election = get_election(election_id, municipality, lock=True)
    require_status(election, Status.TALLIED)
    assert election.header is not None
    trustees = list(Trustee.objects.filter(election=election).order_by("tid"))
    shares = {s.trustee_id: s for s in DecryptionShare.objects.filter(election=election)}
    if any(t.pk not in shares for t in trustees):
        raise Conflict(
            _("Every trustee must upload their decryption first."), code="decryptions_missing"
        )
    ctx = election_context(election.header)
    tally_json = election.tally.tally
    encrypted = tally_from_json(ctx.questions, tally_json)
    decryptions = [shares[t.pk].factors for t in trustees]
    factors = [
        [[int(c["factor"], 16) for c in q["choices"]] for q in d["questions"]] for d in decryptions
    ]
    entries = []
    for tracker, alias, cast_at, superseded, content in (
        Ballot.objects.cast()
        .filter(election=election)
        .order_by("cast_at", "id")
        .values_list("tracker", "roll_entry__alias", "cast_at", "superseded", "content")
        .iterator(chunk_size=2000)
    ):
        entries.append(
            {
                "alias": alias,
                "cast_at": timezone.localtime(cast_at).isoformat(),
                "tracker": tracker,
                "counted": not superseded,
                "answers": content["answers"],
            }
        )
    counted = sum(1 for e in entries if e["counted"])
    counts = combine(encrypted, factors, counted)
    if any(c is None for row in counts for c in row):
        raise Conflict(_("The decryptions do not combine to a result."), code="combine_failed")
    results = [
        {"question": q.id, "counts": row} for q, row in zip(ctx.questions, counts, strict=True)
    ]
    aliases = list(
        RollEntry.objects.filter(election=election)
        .order_by("alias")
        .values_list("alias", flat=True)
    )
    record = build_record(election.header, aliases, entries, tally_json, decryptions, results)
    now = timezone.now()
    result = Result.objects.create(
        election=election,
        counts=results,
        ballots_counted=counted,
        roll_size=len(aliases),
        record=record,
        record_sha256=hashlib.sha256(record_bytes(record)).hexdigest(),
        published_at=now,
    )
    election.status = Status.PUBLISHED
    election.published_at = now
    election.updated_at = now
    election.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="election.publish",
        target=election,
        data={"results": results, "record_sha256": result.record_sha256},
    )
    return result
