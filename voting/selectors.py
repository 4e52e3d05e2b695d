"""Reads of the voting app, each scoped to one municipality and to what its reader may see.

Public: elections once frozen, the bulletin board, audited ballots, results and the record.
Voters: their own eligibility and receipts. Office: drafts, the roll and exclusion report.
Trustees: their tally.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity.eligibility import eligibility
from identity.errors import Conflict, NotFound, PermissionDenied
from identity.models import Municipality, User
from identity.permissions import require
from voting import permissions
from voting.election import trustee_request
from voting.models import (
    Ballot,
    BallotKind,
    Election,
    Phase,
    Question,
    Result,
    RollEntry,
    RollExclusion,
    Status,
    Trustee,
)

BOARD_PAGE_SIZE = 50


def elections_public(municipality: Municipality) -> QuerySet[Election]:
    """Every election of the municipality except drafts, newest first."""
    return Election.objects.filter(municipality=municipality).exclude(status=Status.DRAFT)


def office_elections(user: User | AnonymousUser, municipality: Municipality) -> QuerySet[Election]:
    """All elections including drafts, for the election office."""
    require(permissions.can_manage_elections(user, municipality))
    return Election.objects.filter(municipality=municipality)


def election_visible(
    municipality: Municipality, election_id: int, user: User | AnonymousUser | None = None
) -> Election:
    """A frozen or later election for anyone; a draft for the election office only (and for its
    trustees, who upload keys while it is a draft)."""
    election = (
        Election.objects.select_related("municipality")
        .filter(pk=election_id, municipality=municipality)
        .first()
    )
    if election is None:
        raise NotFound(_("No such election here."), code="not_found")
    if election.status == Status.DRAFT:
        allowed = user is not None and (
            bool(permissions.can_manage_elections(user, municipality))
            or (
                user.is_authenticated
                and Trustee.objects.filter(election=election, user_id=user.pk).exists()
            )
        )
        if not allowed:
            raise NotFound(_("No such election here."), code="not_found")
    return election


def questions_of(election: Election) -> list[Question]:
    return list(Question.objects.filter(election=election).order_by("position"))


def trustees_of(election: Election) -> list[Trustee]:
    return list(
        Trustee.objects.filter(election=election)
        .select_related("user", "decryption")
        .order_by("tid")
    )


@dataclass(frozen=True)
class VoterStatus:
    """May this person vote here, and if not, why (a reason code and its plain message)."""

    allowed: bool  # on the roll (or, before freezing, would be) — says nothing of the clock
    code: str
    message: Promise
    alias: str = ""
    can_cast_now: bool = False  # allowed and the election is open now


def _standing(
    election: Election, alias: str | None, exclusion: str | None, now: datetime
) -> VoterStatus:
    """From freezing on, the roll decides: on it (with the alias) or the exclusion's reason."""
    if alias is not None:
        return VoterStatus(
            True,
            "eligible",
            permissions.reason_message("eligible"),
            alias=alias,
            can_cast_now=election.phase(now) == Phase.OPEN,
        )
    code = exclusion or "not_on_roll"
    return VoterStatus(False, code, permissions.reason_message(code, election))


def _forecast(user: User, election: Election) -> VoterStatus:
    """Before freezing: the shared eligibility function, judged at the close (age on polling
    day)."""
    decision = eligibility(
        user, election.municipality, election.closes_at, permissions.voter_rule(election)
    )
    return VoterStatus(decision.allowed, decision.code, decision.message)


def voter_status(
    user: User | AnonymousUser, election: Election, now: datetime | None = None
) -> VoterStatus:
    """Before freezing, the shared eligibility function's forecast (judged at the close, i.e. age
    on polling day); from freezing on, the roll decides, with the exclusion's reason code."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return VoterStatus(False, "not_signed_in", permissions.reason_message("not_signed_in"))
    assert isinstance(user, User)
    if election.status == Status.DRAFT:
        return _forecast(user, election)
    alias = (
        RollEntry.objects.filter(election=election, user_id=user.pk)
        .values_list("alias", flat=True)
        .first()
    )
    exclusion = None
    if alias is None:
        exclusion = (
            RollExclusion.objects.filter(election=election, user_id=user.pk)
            .values_list("code", flat=True)
            .first()
        )
    return _standing(election, alias, exclusion, now)


@dataclass(frozen=True)
class MyBallot:
    tracker: str
    cast_at: datetime
    ballots_cast: int  # including superseded ones


def _my_ballot(cast: list[tuple[str, datetime, bool]]) -> MyBallot | None:
    """Of one voter's cast ballots (tracker, time, superseded), the counted one."""
    current = [(tracker, at) for tracker, at, superseded in cast if not superseded]
    if not current:
        return None
    tracker, at = current[0]
    return MyBallot(tracker, at, len(cast))


def my_ballot(user: User | AnonymousUser, election: Election) -> MyBallot | None:
    """The voter's counted ballot (the last one cast), if any."""
    if not user.is_authenticated:
        return None
    cast = Ballot.objects.cast().filter(election=election, roll_entry__user_id=user.pk)
    return _my_ballot(list(cast.values_list("tracker", "cast_at", "superseded")))


@dataclass(frozen=True)
class MyElection:
    election: Election
    phase: str
    status: VoterStatus
    ballot: MyBallot | None


def my_elections(
    user: User | AnonymousUser, municipality: Municipality, now: datetime | None = None
) -> list[MyElection]:
    """The municipality's public elections with this person's standing in each: a few queries
    for all of them (roll entries, exclusions, ballots), however many elections there are."""
    now = now or timezone.now()
    elections = list(elections_public(municipality).select_related("municipality"))
    if not user.is_authenticated:
        return [MyElection(e, e.phase(now), voter_status(user, e, now), None) for e in elections]
    assert isinstance(user, User)
    ids = [e.pk for e in elections]
    aliases = dict(
        RollEntry.objects.filter(election_id__in=ids, user_id=user.pk).values_list(
            "election_id", "alias"
        )
    )
    exclusions = dict(
        RollExclusion.objects.filter(election_id__in=ids, user_id=user.pk).values_list(
            "election_id", "code"
        )
    )
    cast: dict[int, list[tuple[str, datetime, bool]]] = {}
    rows = (
        Ballot.objects.cast()
        .filter(election_id__in=ids, roll_entry__user_id=user.pk)
        .values_list("election_id", "tracker", "cast_at", "superseded")
    )
    for election_id, tracker, at, superseded in rows:
        cast.setdefault(election_id, []).append((tracker, at, superseded))
    return [
        MyElection(
            e,
            e.phase(now),
            _forecast(user, e)
            if e.status == Status.DRAFT
            else _standing(e, aliases.get(e.pk), exclusions.get(e.pk), now),
            _my_ballot(cast.get(e.pk, [])),
        )
        for e in elections
    ]


@dataclass(frozen=True)
class BoardRow:
    alias: str
    tracker: str
    cast_at: datetime
    superseded: bool


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    count: int
    page: int
    pages: int
    query: str


def _require_public(election: Election) -> None:
    if election.status == Status.DRAFT:
        raise NotFound(_("No such election here."), code="not_found")


def board_rows(election: Election, query: str = "") -> QuerySet[Ballot]:
    """Cast ballots in the order received; `query` matches the start of a tracker."""
    _require_public(election)
    ballots = Ballot.objects.cast().filter(election=election)
    query = query.strip().lower()
    if query:
        ballots = ballots.filter(tracker__startswith=query)
    return ballots.order_by("cast_at", "id")


def bulletin_board(
    election: Election, *, query: str = "", page: int = 1, per_page: int = BOARD_PAGE_SIZE
) -> BoardPage:
    """One page of the public bulletin board (aliases, trackers, cast times, superseded)."""
    ballots = board_rows(election, query)
    count = ballots.count()
    pages = max(1, -(-count // per_page))
    page = min(max(1, page), pages)
    chunk = ballots.values_list("roll_entry__alias", "tracker", "cast_at", "superseded")[
        (page - 1) * per_page : page * per_page
    ]
    return BoardPage([BoardRow(*row) for row in chunk], count, page, pages, query.strip().lower())


@dataclass(frozen=True)
class AuditedBallot:
    tracker: str
    audited_at: datetime
    selections: dict[str, list[str]]
    ballot: dict[str, Any]
    randomness: list[Any]
    # No alias: an audited ballot reveals its choices, so it is published without the voter's
    # alias (docs/design.md, "Secrecy").


def audited_ballots(election: Election) -> list[AuditedBallot]:
    """Spoiled (Benaloh-audited) ballots with their revealed randomness, anyone may re-check
    (α = g^ρ, β = g^m·y^ρ needs no alias). Without the voter's alias: neither as a field nor
    inside the ballot, so an audited choice is never tied to a voter's alias on the board."""
    _require_public(election)
    return [
        AuditedBallot(
            tracker,
            at,
            selections or {},
            {key: value for key, value in (content or {}).items() if key != "alias"},
            randomness or [],
        )
        for tracker, at, selections, content, randomness in Ballot.objects.filter(
            election=election, kind=BallotKind.AUDITED
        )
        .order_by("cast_at", "id")
        .values_list("tracker", "cast_at", "selections", "content", "randomness")
    ]


@dataclass(frozen=True)
class OptionResult:
    id: str
    text: str
    count: int
    share: float  # of counted ballots


@dataclass(frozen=True)
class QuestionResult:
    id: str
    text: str
    min_selections: int
    max_selections: int
    options: list[OptionResult]


@dataclass(frozen=True)
class Results:
    election: Election
    questions: list[QuestionResult]
    ballots_counted: int
    roll_size: int
    turnout: float  # counted ballots / roll size
    published_at: datetime
    record_sha256: str


def results_of(election: Election) -> Results | None:
    """Published results with turnout; None until published."""
    if election.status != Status.PUBLISHED:
        return None
    result = Result.objects.defer("record").get(election=election)
    by_id = {r["question"]: r["counts"] for r in result.counts}
    questions = []
    for q in questions_of(election):
        counts = by_id[q.qid]
        questions.append(
            QuestionResult(
                q.qid,
                q.text,
                q.min_selections,
                q.max_selections,
                [
                    OptionResult(
                        o["id"],
                        o["text"],
                        n,
                        n / result.ballots_counted if result.ballots_counted else 0.0,
                    )
                    for o, n in zip(q.options, counts, strict=True)
                ],
            )
        )
    return Results(
        election,
        questions,
        result.ballots_counted,
        result.roll_size,
        result.turnout,
        result.published_at,
        result.record_sha256,
    )


def record_of(election: Election) -> Result:
    """The stored record (published elections only)."""
    result = (
        Result.objects.filter(election=election).first()
        if election.status == Status.PUBLISHED
        else None
    )
    if result is None:
        raise NotFound(_("The record is published with the results."), code="not_published")
    return result


@dataclass(frozen=True)
class Exclusion:
    user_id: int
    email: str
    name: str
    code: str
    message: Promise


@dataclass(frozen=True)
class RollReport:
    election: Election
    roll_size: int
    by_method: dict[str, int]
    by_age_bracket: dict[str, int]
    exclusions: list[Exclusion]
    exclusions_by_code: dict[str, int]


def roll_report(user: User | AnonymousUser, election: Election) -> RollReport:
    """The election office's report: roll size and who was left off, with each reason."""
    require(permissions.can_view_roll_report(user, election.municipality))
    if election.status == Status.DRAFT:
        raise Conflict(permissions.reason_message("roll_not_fixed"), code="roll_not_fixed")
    roll = RollEntry.objects.filter(election=election)
    by_method = dict(
        roll.values_list("method")
        .annotate(n=Count("id"))
        .order_by("method")
        .values_list("method", "n")
    )
    by_age = dict(
        roll.values_list("age_bracket")
        .annotate(n=Count("id"))
        .order_by("age_bracket")
        .values_list("age_bracket", "n")
    )
    exclusions = [
        Exclusion(
            x.user_id,
            x.user.email,
            x.user.display_name,
            x.code,
            permissions.reason_message(x.code, election),
        )
        for x in RollExclusion.objects.filter(election=election)
        .select_related("user")
        .order_by("code", "user_id")
    ]
    by_code: dict[str, int] = {}
    for x in exclusions:
        by_code[x.code] = by_code.get(x.code, 0) + 1
    return RollReport(election, roll.count(), by_method, by_age, exclusions, by_code)


def trustee_tally_request(user: User | AnonymousUser, election: Election) -> dict[str, Any]:
    """tally.json for `python -m voting.trustee decrypt`, for the trustee who asks."""
    trustee = (
        Trustee.objects.filter(election=election, user_id=user.pk).first()
        if user.is_authenticated
        else None
    )
    if trustee is None:
        raise PermissionDenied(_("You are not a trustee of this election."), code="not_trustee")
    if election.status not in (Status.TALLIED, Status.PUBLISHED):
        raise Conflict(_("The tally has not been computed yet."), code="not_tallied")
    assert election.header is not None
    return trustee_request(election.header, election.tally.tally, trustee.tid)


def trustee_of(user: User | AnonymousUser, election: Election) -> Trustee | None:
    if not user.is_authenticated:
        return None
    return Trustee.objects.filter(election=election, user_id=user.pk).first()


def ballot_context(user: User | AnonymousUser, election: Election) -> dict[str, Any]:
    """What the browser's election.mjs needs to encrypt this voter's ballot: electionHash,
    jointPublicKey, questions (record form) and the voter's alias. Refuses like ballot_cast."""
    status = voter_status(user, election)
    if not status.allowed or not status.alias:
        raise PermissionDenied(status.message, code=status.code)
    assert election.header is not None
    return {
        "election_hash": election.header["election_hash"],
        "joint_public_key": election.header["joint_public_key"],
        "questions": election.header["election"]["questions"],
        "alias": status.alias,
    }


# The election office's and the trustees' pages (the views check the role) ---------------------


def election_in(municipality: Municipality, election_id: int) -> Election | None:
    """Any election of the municipality, drafts included: for pages already guarded by role."""
    return (
        Election.objects.filter(pk=election_id, municipality=municipality)
        .select_related("municipality")
        .first()
    )


def office_election_list(municipality: Municipality) -> QuerySet[Election]:
    return (
        Election.objects.filter(municipality=municipality)
        .annotate(
            trustee_count=Count("trustees", distinct=True),
            question_count=Count("questions", distinct=True),
        )
        .order_by("-opens_at", "-id")
    )


def decrypted_trustee_ids(election: Election) -> set[int]:
    return set(election.decryptions.values_list("trustee_id", flat=True))


def ballot_counts(election: Election) -> dict[str, int]:
    """Cast ballots, the ones that count (the last per voter) and audited (spoiled) ones."""
    counts: dict[str, int] = election.ballots.aggregate(
        cast=Count("id", filter=Q(kind="cast")),
        counted=Count("id", filter=Q(kind="cast", superseded=False)),
        audited=Count("id", filter=Q(kind="audited")),
    )
    return counts


def roll_exclusions(election: Election) -> QuerySet[RollExclusion]:
    return (
        RollExclusion.objects.filter(election=election)
        .select_related("user")
        .order_by("code", "user__email", "id")
    )


def roll_exclusion_counts(election: Election) -> list[tuple[str, int]]:
    """How many people were left off the roll for each reason code."""
    return [
        (row["code"], row["n"])
        for row in RollExclusion.objects.filter(election=election)
        .values("code")
        .annotate(n=Count("id"))
        .order_by("code")
    ]


def trusteeships_of(user: User, municipality: Municipality) -> list[Trustee]:
    return list(
        Trustee.objects.filter(election__municipality=municipality, user=user)
        .select_related("election")
        .order_by("-election__opens_at", "-election_id")
    )


def co_trustees(election: Election, trustee: Trustee) -> list[Trustee]:
    return list(Trustee.objects.filter(election=election).exclude(pk=trustee.pk).order_by("tid"))
