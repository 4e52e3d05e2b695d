"""Casting and auditing encrypted ballots: the hot path.

A cast runs in three steps, so the expensive part holds no lock and no connection:
  1. `ballot_prepare` (cheap reads): the election is open, the voter is on the roll, the ballot
     names the voter's alias, the tracker is computed;
  2. verification of the proofs with the election library (`verify_ballot`, or `verify_ballots`
     for a micro-batch of many voters' ballots at once, see voting/api.py);
  3. `ballot_store` (one short transaction): the election row is share-locked and the database
     clock read, so a cast racing the close is decided by the one order PostgreSQL gives them;
     the voter's roll entry is locked, the previous ballot (if any) superseded and the new one
     inserted (a partial unique index allows one counted ballot per voter), and the tracker
     e-mail scheduled after commit. No audit entry names the voter: the public bulletin board is
     the record of ballots (docs/design.md, "Secrecy").
`ballot_cast` is the three steps for one ballot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
)
from identity.idempotency import Claim, claims_store, claims_take, stores_answer
from identity.models import Municipality, User
from voting.election import ElectionContext, ballot_tracker, verify_ballot
from voting.election.arith import invert, powmod
from voting.election.encoding import FormatError, from_hex
from voting.election.group import P, g_pow
from voting.models import Ballot, BallotKind, Election, RollEntry, RollExclusion, Status
from voting.permissions import reason_message
from voting.services.common import context_by_hash


def _table(model: type[models.Model]) -> str:
    """A model's table name, quoted, for the few plain statements of the hot path (the ORM's
    query building costs more CPU than their work); no input ever reaches it."""
    return connection.ops.quote_name(model._meta.db_table)


class BallotRejected(InvalidInput):
    """The ballot failed a check of the spec; `failures` name each failing check and item."""

    code = "ballot_invalid"

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__(
            _("The ballot was refused because a proof does not check out: %(failure)s")
            % {"failure": failures[0]}
        )
        self.failures = list(failures)


@dataclass(frozen=True)
class PreparedBallot:
    """A ballot that passed the cheap checks; `ballot_store` accepts it once its proofs hold."""

    election_id: int
    municipality_id: int
    roll_entry_id: int
    voter_id: int
    content: dict[str, Any]
    tracker: str
    ctx: ElectionContext


@dataclass(frozen=True)
class CastReceipt:
    ballot_id: int
    tracker: str
    cast_at: datetime
    replaced_previous: bool


@dataclass(frozen=True)
class AuditReceipt:
    ballot_id: int
    tracker: str
    selections: dict[str, list[str]]


def _not_open(election: Election, now: datetime) -> Conflict:
    if election.status == Status.FROZEN and now < election.opens_at:
        return Conflict(_("Voting has not started yet."), code="election_not_open")
    if election.status == Status.DRAFT:
        return Conflict(_("This election is not open for voting."), code="election_not_open")
    return Conflict(_("Voting in this election has closed."), code="election_closed")


def voter_roll_entry(actor: User, election: Election) -> RollEntry:
    """The actor's roll entry, else a refusal with the reason they are not on the roll."""
    entry = RollEntry.objects.filter(election=election, user=actor).only("id", "alias").first()
    if entry is None:
        code = (
            RollExclusion.objects.filter(election=election, user=actor)
            .values_list("code", flat=True)
            .first()
        ) or "not_on_roll"
        raise PermissionDenied(reason_message(code, election), code=code)
    return entry


def _ballot_content(ballot_json: object, alias: str) -> tuple[dict[str, Any], str]:
    if not isinstance(ballot_json, Mapping) or not isinstance(ballot_json.get("answers"), list):
        raise BallotRejected(["check 4 (encryption) failed: ballot: not a ballot object"])
    if ballot_json.get("alias") != alias:
        raise InvalidInput(
            _("This ballot was encrypted for another voter; reload the page and vote again."),
            code="alias_mismatch",
        )
    content = {"alias": alias, "answers": ballot_json["answers"]}
    try:
        tracker = ballot_tracker(content)
    except (TypeError, ValueError):
        raise BallotRejected(["check 6 (trackers) failed: ballot: cannot be hashed"]) from None
    if "tracker" in ballot_json and ballot_json["tracker"] != tracker:
        raise BallotRejected(
            [
                "check 6 (trackers) failed: ballot: "
                "tracker is not SHA-256 of canonical(alias, answers)"
            ]
        )
    return content, tracker


@dataclass(frozen=True)
class PrepareRequest:
    """One voter's ballot to check before its proofs (an item of `ballot_prepare_many`)."""

    actor: User
    municipality: Municipality
    election_id: int
    ballot_json: object


def _roll_rows(requests: Sequence[PrepareRequest]) -> dict[tuple[int, int, int], tuple[Any, ...]]:
    """Each voter's roll entry joined to its election, for the whole batch in one query:
    (election id, municipality id, user id) → (entry id, alias, status, opens_at, closes_at,
    election_hash)."""
    wanted = {(r.election_id, r.municipality.pk, r.actor.pk) for r in requests}
    rows = RollEntry.objects.filter(
        election_id__in={w[0] for w in wanted},
        election__municipality_id__in={w[1] for w in wanted},
        user_id__in={w[2] for w in wanted},
    ).values_list(
        "election_id",
        "election__municipality_id",
        "user_id",
        "id",
        "alias",
        "election__status",
        "election__opens_at",
        "election__closes_at",
        "election__election_hash",
    )
    found = {(row[0], row[1], row[2]): row[3:] for row in rows}
    return {key: row for key, row in found.items() if key in wanted}


def _why_not_on_roll(request: PrepareRequest) -> DomainError:
    """The refusal for a voter with no roll entry in this election (a rare path: one by one)."""
    election = (
        Election.objects.filter(pk=request.election_id, municipality=request.municipality)
        .only("id", "status", "opens_at", "closes_at")
        .first()
    )
    if election is None:
        return NotFound(_("No such election here."), code="not_found")
    now = timezone.now()
    if not election.is_open(now):
        return _not_open(election, now)
    try:
        voter_roll_entry(request.actor, election)
    except DomainError as refused:
        return refused
    raise AssertionError("a roll entry appeared meanwhile")  # _roll_rows found none


def ballot_prepare_many(requests: Sequence[PrepareRequest]) -> list[PreparedBallot | DomainError]:
    """The cheap checks before any proof is verified, for a batch: one indexed read of the
    voters' roll entries joined to their elections; the election's context is cached by its
    hash. Each request gets its prepared ballot or its refusal: 401 not_signed_in, 404
    not_found, 409 election_not_open / election_closed, 403 with the reason the person is not on
    the roll, 422 alias_mismatch / ballot_invalid."""
    rows = _roll_rows([r for r in requests if r.actor.is_authenticated])
    now = timezone.now()
    answers: list[PreparedBallot | DomainError] = []
    for request in requests:
        if not request.actor.is_authenticated:
            answers.append(NotSignedIn(reason_message("not_signed_in")))
            continue
        row = rows.get((request.election_id, request.municipality.pk, request.actor.pk))
        if row is None:
            answers.append(_why_not_on_roll(request))
            continue
        entry_id, alias, status, opens_at, closes_at, election_hash = row
        election = Election(
            pk=request.election_id, status=status, opens_at=opens_at, closes_at=closes_at
        )
        if not election.is_open(now):
            answers.append(_not_open(election, now))
            continue
        try:
            content, tracker = _ballot_content(request.ballot_json, alias)
        except DomainError as refused:
            answers.append(refused)
            continue
        answers.append(
            PreparedBallot(
                election_id=request.election_id,
                municipality_id=request.municipality.pk,
                roll_entry_id=entry_id,
                voter_id=request.actor.pk,
                content=content,
                tracker=tracker,
                ctx=context_by_hash(request.election_id, election_hash),
            )
        )
    return answers


def ballot_prepare(
    *, actor: User, municipality: Municipality, election_id: int, ballot_json: object
) -> PreparedBallot:
    """`ballot_prepare_many` of one (its refusals raised)."""
    (prepared,) = ballot_prepare_many(
        [PrepareRequest(actor, municipality, election_id, ballot_json)]
    )
    if isinstance(prepared, DomainError):
        raise prepared
    return prepared


def db_now() -> datetime:
    """The database's clock (PostgreSQL: clock_timestamp(), the time of this very statement)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            (now,) = cursor.fetchone()
        return now
    return timezone.now()


def _lock_voter_then_election(roll_entry_id: int, election_id: int) -> tuple[Election, datetime]:
    """Lock the voter's roll entry (so one voter's casts and audits run one after the other),
    then share-lock the election row and read the database clock. `election_close` takes the
    election row FOR UPDATE, so every cast either commits before the close (and its cast_at is
    earlier) or waits and then sees the election closed. The clock is read after both locks, so
    a voter's later ballot always has the later cast_at."""
    RollEntry.objects.select_for_update().filter(pk=roll_entry_id).values_list(
        "id", flat=True
    ).get()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT status, opens_at, closes_at, clock_timestamp() FROM {_table(Election)} "  # noqa: S608  # nosec B608
                "WHERE id = %s FOR KEY SHARE",
                [election_id],
            )
            row = cursor.fetchone()
        if row is None:
            raise NotFound(_("No such election here."), code="not_found")
        status, opens_at, closes_at, now = row
        election = Election(pk=election_id, status=status, opens_at=opens_at, closes_at=closes_at)
        return election, now
    found = (
        Election.objects.select_for_update()
        .only("id", "status", "opens_at", "closes_at")
        .filter(pk=election_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such election here."), code="not_found")
    return found, timezone.now()


def _send_receipts(ballot_ids: list[int]) -> None:
    """The receipts of ballots stored in this transaction: one outbox message per ballot (so
    each is retried on its own and sent once), written in one INSERT for the group."""
    from voting.outbox import receipts_send

    receipts_send(ballot_ids)


class _TrackerTaken(Exception):
    """The unique index on trackers refused the insert (the transaction is rolled back)."""


def _tracker_conflict(tracker: str, *, auditing: bool) -> Conflict:
    kind = Ballot.objects.filter(tracker=tracker).values_list("kind", flat=True).first()
    if kind == BallotKind.AUDITED:
        if auditing:
            return Conflict(_("This ballot has already been audited."), code="ballot_audited")
        return Conflict(
            _("This ballot was audited, so it can never be cast. Encrypt your choice again."),
            code="ballot_audited",
        )
    if auditing and kind == BallotKind.CAST:
        return Conflict(
            _("This ballot has been cast; a cast ballot is never revealed."), code="ballot_cast"
        )
    return Conflict(_("This ballot has already been cast."), code="ballot_duplicate")


@transaction.atomic(durable=True)
def _store(*, actor: User, prepared: PreparedBallot, claim: Claim | None = None) -> CastReceipt:
    if claim is not None:
        (refusal,) = claims_take([(actor.pk, claim)])
        if refusal is not None:
            raise refusal
    election, now = _lock_voter_then_election(prepared.roll_entry_id, prepared.election_id)
    if not (election.status == Status.FROZEN and election.opens_at <= now < election.closes_at):
        raise _not_open(election, now)
    # Two plain statements (the ORM's model and query machinery cost more CPU than the
    # database work on this path). No savepoint: a taken tracker fails the unique index and we
    # leave at once, so the whole cast rolls back.
    content_field = Ballot._meta.get_field("content")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(Ballot)} SET superseded = %s "  # noqa: S608  # nosec B608
            "WHERE roll_entry_id = %s AND kind = %s AND superseded = %s",
            [True, prepared.roll_entry_id, BallotKind.CAST.value, False],
        )
        replaced = cursor.rowcount
        try:
            cursor.execute(
                f"INSERT INTO {_table(Ballot)} (election_id, roll_entry_id, kind, content, "  # noqa: S608  # nosec B608
                "tracker, cast_at, superseded) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [
                    prepared.election_id,
                    prepared.roll_entry_id,
                    BallotKind.CAST.value,
                    content_field.get_db_prep_save(prepared.content, connection),
                    prepared.tracker,
                    connection.ops.adapt_datetimefield_value(now),
                    False,
                ],
            )
        except IntegrityError:
            raise _TrackerTaken from None
        (ballot_id,) = cursor.fetchone()
    ballot = Ballot(
        pk=ballot_id,
        election_id=prepared.election_id,
        roll_entry_id=prepared.roll_entry_id,
        kind=BallotKind.CAST,
        tracker=prepared.tracker,
        cast_at=now,
    )
    # No audit entry: the public bulletin board is the record of ballots (design.md, "Secrecy").
    _send_receipts([ballot.pk])
    receipt = CastReceipt(ballot.pk, prepared.tracker, now, bool(replaced))
    if claim is not None:
        claims_store([(actor.pk, claim, receipt)])
    return receipt


def _store_alone(
    *, actor: User, prepared: PreparedBallot, claim: Claim | None = None
) -> CastReceipt:
    try:
        return _store(actor=actor, prepared=prepared, claim=claim)
    except _TrackerTaken:
        raise _tracker_conflict(prepared.tracker, auditing=False) from None


def ballot_store(*, actor: User, prepared: PreparedBallot) -> CastReceipt:
    """Record a ballot whose proofs were verified (one short transaction). Re-voting supersedes
    the previous ballot; a tracker that was audited or cast already is refused (409). The group
    commit of one (`ballot_store_many`), so one ballot and many take one code path."""
    (outcome,) = ballot_store_many([(actor, prepared)])
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


class _GroupRefused(Exception):
    """A constraint refused the group's insert after all (rolled back; stored one by one)."""


def _group_plan(
    casts: Sequence[tuple[User, PreparedBallot]],
) -> tuple[dict[int, list[int]], list[int]]:
    """Which casts can share a transaction: per election, the first cast of each voter (and of
    each tracker); every later one is stored alone afterwards, in order."""
    groups: dict[int, list[int]] = {}
    seen_entries: set[int] = set()
    seen_trackers: set[str] = set()
    alone: list[int] = []
    for index, (_actor, prepared) in enumerate(casts):
        if prepared.roll_entry_id in seen_entries or prepared.tracker in seen_trackers:
            alone.append(index)
            continue
        seen_entries.add(prepared.roll_entry_id)
        seen_trackers.add(prepared.tracker)
        groups.setdefault(prepared.election_id, []).append(index)
    return groups, alone


@transaction.atomic(durable=True)
def _store_group(
    election_id: int,
    casts: Sequence[tuple[User, PreparedBallot]],
    claims: Sequence[Claim | None],
) -> tuple[dict[int, CastReceipt | Exception], list[int]]:
    """`_store` for several voters' ballots of one election in one transaction (PostgreSQL): the
    roll entries locked in id order, the election share-locked and the clock read once, one
    UPDATE superseding, one INSERT, one audit INSERT. Casts whose tracker is taken already are
    left out (their positions returned) for the single path to refuse with its reason. A cast
    whose `Idempotency-Key` has an answer (or is in progress) is answered so and not stored; the
    others' answers are stored with them (one INSERT)."""
    keyed = [(i, casts[i][0].pk, claim) for i, claim in enumerate(claims) if claim is not None]
    taken = claims_take([(scope, claim) for _i, scope, claim in keyed])
    outcomes: dict[int, CastReceipt | Exception] = {
        i: refusal for (i, _s, _c), refusal in zip(keyed, taken, strict=True) if refusal is not None
    }
    if not outcomes:
        answers, left_out = _store_group_acts(election_id, casts, claims)
        return dict(answers), left_out
    rest = [i for i in range(len(casts)) if i not in outcomes]
    if not rest:
        return outcomes, []
    try:
        answers, left_out = _store_group_acts(
            election_id, [casts[i] for i in rest], [claims[i] for i in rest]
        )
    except DomainError as refusal:  # refused before any write (not open, not found)
        outcomes.update(dict.fromkeys(rest, refusal))
        return outcomes, []
    outcomes.update({rest[position]: answer for position, answer in answers.items()})
    return outcomes, [rest[position] for position in left_out]


def _store_group_acts(
    election_id: int,
    casts: Sequence[tuple[User, PreparedBallot]],
    claims: Sequence[Claim | None],
) -> tuple[dict[int, CastReceipt], list[int]]:
    entry_ids = sorted(prepared.roll_entry_id for _actor, prepared in casts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {_table(RollEntry)} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608  # nosec B608
            [entry_ids],
        )
        if len(cursor.fetchall()) != len(entry_ids):
            raise _GroupRefused
        cursor.execute(
            f"SELECT status, opens_at, closes_at, clock_timestamp() FROM {_table(Election)} "  # noqa: S608  # nosec B608
            "WHERE id = %s FOR KEY SHARE",
            [election_id],
        )
        row = cursor.fetchone()
        if row is None:
            raise NotFound(_("No such election here."), code="not_found")
        status, opens_at, closes_at, now = row
        election = Election(pk=election_id, status=status, opens_at=opens_at, closes_at=closes_at)
        if not (status == Status.FROZEN and opens_at <= now < closes_at):
            raise _not_open(election, now)
        # A tracker is SHA-256 over the voter's alias, so only this voter's own ballots (their
        # roll entry is locked now) can hold it: checked here, it stays free until we commit.
        cursor.execute(
            f"SELECT tracker FROM {_table(Ballot)} WHERE tracker = ANY(%s)",  # noqa: S608  # nosec B608
            [[prepared.tracker for _actor, prepared in casts]],
        )
        taken = {tracker for (tracker,) in cursor.fetchall()}
        left_out = [i for i, (_actor, p) in enumerate(casts) if p.tracker in taken]
        storing = [(i, actor, p) for i, (actor, p) in enumerate(casts) if p.tracker not in taken]
        if not storing:
            return {}, left_out
        cursor.execute(
            f"UPDATE {_table(Ballot)} SET superseded = %s "  # noqa: S608  # nosec B608
            "WHERE roll_entry_id = ANY(%s) AND kind = %s AND superseded = %s "
            "RETURNING roll_entry_id",
            [True, [p.roll_entry_id for _i, _a, p in storing], BallotKind.CAST.value, False],
        )
        replaced = {entry_id for (entry_id,) in cursor.fetchall()}
        content_field = Ballot._meta.get_field("content")
        cast_at = connection.ops.adapt_datetimefield_value(now)
        values: list[Any] = []
        for _index, _actor, prepared in storing:
            values += [
                election_id,
                prepared.roll_entry_id,
                BallotKind.CAST.value,
                content_field.get_db_prep_save(prepared.content, connection),
                prepared.tracker,
                cast_at,
                False,
            ]
        # Only placeholders are joined into the statement; the values are parameters.
        cursor.execute(
            f"INSERT INTO {_table(Ballot)} (election_id, roll_entry_id, kind, content, tracker, "  # noqa: S608  # nosec B608
            "cast_at, superseded) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(storing))
            + " ON CONFLICT DO NOTHING RETURNING id, tracker",
            values,
        )
        ids = {tracker: ballot_id for ballot_id, tracker in cursor.fetchall()}
    if len(ids) != len(storing):
        raise _GroupRefused  # roll back: nothing of the group is kept
    receipts: dict[int, CastReceipt] = {}
    for index, _actor, prepared in storing:
        ballot_id = ids[prepared.tracker]
        was_replaced = prepared.roll_entry_id in replaced
        receipts[index] = CastReceipt(ballot_id, prepared.tracker, now, was_replaced)
    # No audit entries: the public bulletin board is the record of ballots.
    if receipts:
        _send_receipts([r.ballot_id for r in receipts.values()])
        claims_store(
            [
                (casts[index][0].pk, claim, receipt)
                for index, receipt in receipts.items()
                if (claim := claims[index]) is not None
            ]
        )
    return receipts, left_out


def ballot_store_many(
    casts: Sequence[tuple[User, PreparedBallot]],
    *,
    idempotency: Sequence[Claim | None] = (),
) -> list[CastReceipt | DomainError | Exception]:
    """`ballot_store` for many verified ballots (e.g. one verification batch): for each, its
    receipt or the refusal ballot_store would raise. On PostgreSQL the first cast of each voter
    shares one transaction with the others of its election (group commit); a voter's later
    casts in the list, a tracker taken already, and every cast elsewhere are stored one by one
    alone afterwards, in list order, so each voter's later ballot supersedes the
    earlier one as if all had been sent one after the other. `idempotency` (one per cast, or
    empty) carries each request's `Idempotency-Key` claim: its answer is stored in the cast's
    transaction, and a key already answered is answered from it without a second ballot."""
    claims: list[Claim | None] = list(idempotency) or [None] * len(casts)
    assert len(claims) == len(casts)
    results: list[CastReceipt | DomainError | Exception | None] = [None] * len(casts)
    alone: list[int] = []
    if connection.vendor == "postgresql" and len(casts) > 1:
        groups, alone = _group_plan(casts)
        for election_id, indices in groups.items():
            if len(indices) == 1:
                alone.append(indices[0])
                continue
            try:
                receipts, left_out = _store_group(
                    election_id, [casts[i] for i in indices], [claims[i] for i in indices]
                )
            except _GroupRefused:
                alone.extend(indices)
                continue
            except DomainError as refused:
                for i in indices:
                    results[i] = refused
                continue
            for position, receipt in receipts.items():
                results[indices[position]] = receipt
            alone.extend(indices[position] for position in left_out)
        alone.sort()
    else:
        alone = list(range(len(casts)))
    for i in alone:
        actor, prepared = casts[i]
        try:
            results[i] = _store_alone(actor=actor, prepared=prepared, claim=claims[i])
        except Exception as failed:  # this ballot's answer alone; the others stand
            results[i] = failed
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def check_proofs(prepared: PreparedBallot) -> None:
    errors = verify_ballot(prepared.ctx, prepared.content)
    if errors:
        raise BallotRejected(errors)


def ballot_cast(
    *, actor: User, municipality: Municipality, election_id: int, ballot_json: object
) -> CastReceipt:
    """A voter casts an encrypted ballot; returns the receipt with its tracker.

    Refusals: 404 not_found; 403 with the eligibility reason code (or not_on_roll);
    409 election_not_open / election_closed / ballot_audited / ballot_duplicate;
    422 alias_mismatch or ballot_invalid (the failing check named in the message)."""
    prepared = ballot_prepare(
        actor=actor, municipality=municipality, election_id=election_id, ballot_json=ballot_json
    )
    check_proofs(prepared)
    return ballot_store(actor=actor, prepared=prepared)


def revealed_selections(
    ctx: ElectionContext, content: Mapping[str, Any], randomness: object
) -> dict[str, list[str]]:
    """Benaloh check on the server: with the revealed ρ of every option, each ciphertext must be
    (g^ρ, g^m·y^ρ) with m ∈ {0, 1}; returns the selections the ballot encrypts."""
    if not isinstance(randomness, list) or len(randomness) != len(ctx.questions):
        raise InvalidInput(
            _("The revealed randomness does not cover every question."), code="audit_invalid"
        )
    selections: dict[str, list[str]] = {}
    y = int(ctx.joint_public_key)
    g = g_pow(1)
    for question, answer, secret in zip(ctx.questions, content["answers"], randomness, strict=True):
        rhos = secret.get("randomness") if isinstance(secret, Mapping) else None
        if (
            not isinstance(secret, Mapping)
            or secret.get("question") != question.id
            or not isinstance(rhos, list)
            or len(rhos) != len(question.option_ids)
        ):
            raise InvalidInput(
                _("The revealed randomness does not match question %(q)s.") % {"q": question.id},
                code="audit_invalid",
            )
        chosen = []
        for option_id, choice, rho_hex in zip(
            question.option_ids, answer["choices"], rhos, strict=True
        ):
            try:
                rho = from_hex(rho_hex, "randomness")
                alpha, beta = from_hex(choice["alpha"], "alpha"), from_hex(choice["beta"], "beta")
            except (FormatError, KeyError, TypeError):
                raise InvalidInput(
                    _("The revealed randomness is not a list of numbers."), code="audit_invalid"
                ) from None
            plain = beta * invert(powmod(y, rho, P), P) % P
            if g_pow(rho) != alpha or plain not in (1, g):
                raise InvalidInput(
                    _(
                        "Question %(q)s, option %(o)s: the ciphertext is not what this randomness "
                        "gives. Your device may not have encrypted your choice."
                    )
                    % {"q": question.id, "o": option_id},
                    code="audit_mismatch",
                )
            if plain == g:
                chosen.append(option_id)
        selections[question.id] = chosen
    return selections


@transaction.atomic(durable=True)
@stores_answer
def _audit_insert(
    *, actor: User, prepared: PreparedBallot, randomness: list[Any], selections: dict[str, Any]
) -> AuditReceipt:
    election, now = _lock_voter_then_election(prepared.roll_entry_id, prepared.election_id)
    if not (election.status == Status.FROZEN and election.opens_at <= now < election.closes_at):
        raise _not_open(election, now)
    ballot = Ballot(
        election_id=prepared.election_id,
        roll_entry_id=prepared.roll_entry_id,
        kind=BallotKind.AUDITED,
        content=prepared.content,
        tracker=prepared.tracker,
        cast_at=now,
        randomness=randomness,
        selections=selections,
    )
    try:
        ballot.save(force_insert=True)
    except IntegrityError:
        raise _TrackerTaken from None
    # No audit entry: the spoiled ballot is published on the board without its voter's alias.
    return AuditReceipt(ballot.pk, prepared.tracker, selections)


def _audit_store(
    *, actor: User, prepared: PreparedBallot, randomness: list[Any], selections: dict[str, Any]
) -> AuditReceipt:
    try:
        return _audit_insert(
            actor=actor, prepared=prepared, randomness=randomness, selections=selections
        )
    except _TrackerTaken:
        raise _tracker_conflict(prepared.tracker, auditing=True) from None


def ballot_audit(
    *,
    actor: User,
    municipality: Municipality,
    election_id: int,
    ballot_json: object,
    randomness: object,
) -> AuditReceipt:
    """Benaloh challenge: the voter spoils an encrypted ballot and reveals its randomness. The
    server checks the proofs and the randomness, stores the spoiled ballot with the selections it
    encrypts (shown on the bulletin board), and its tracker can never be cast.

    Refusals as ballot_cast, plus 422 audit_invalid / audit_mismatch and 409 ballot_cast."""
    prepared = ballot_prepare(
        actor=actor, municipality=municipality, election_id=election_id, ballot_json=ballot_json
    )
    check_proofs(prepared)
    selections = revealed_selections(prepared.ctx, prepared.content, randomness)
    assert isinstance(randomness, list)
    return _audit_store(
        actor=actor, prepared=prepared, randomness=randomness, selections=selections
    )
