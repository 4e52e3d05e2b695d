"""Elections in the JSON API: the public record (elections, bulletin board, audited ballots,
results, record.json), the voter's eligibility and ballot context, casting and auditing.

Casting is asynchronous: ballots in flight together share each step of the cast (checks, proof
verification, storing), see voting/services/casting.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from identity.api import AUTH, InvalidOut, auth_user, errors, municipality_or_404
from identity.api_auth import AUTH_BATCHED
from identity.idempotency import answered, claim_current, idempotent
from voting import exports, selectors, services
from voting.models import Election

router = Router(tags=["elections"])


class OptionOut(Schema):
    id: str
    text: str


class QuestionOut(Schema):
    id: str
    text: str
    min_selections: int
    max_selections: int
    options: list[OptionOut]


class ElectionOut(Schema):
    id: int
    uuid: str
    title: str
    explanation: str
    status: str = Field(description="draft, frozen, closed, tallied or published (stored).")
    phase: str = Field(
        description="What a voter sees: scheduled, open, closed, tallied or published."
    )
    opens_at: datetime
    closes_at: datetime
    min_age: int
    election_hash: str
    questions: list[QuestionOut]

    @staticmethod
    def of(election: Election) -> ElectionOut:
        questions = election.header["election"]["questions"] if election.header else []
        return ElectionOut(
            id=election.pk,
            uuid=str(election.uuid),
            title=election.title,
            explanation=election.explanation,
            status=election.status,
            phase=election.phase(),
            opens_at=election.opens_at,
            closes_at=election.closes_at,
            min_age=election.min_age,
            election_hash=election.election_hash,
            questions=questions,
        )


class ElectionEligibilityOut(Schema):
    election_id: int
    allowed: bool = Field(description="On the voter roll (before freezing: would be).")
    can_cast_now: bool
    code: str = Field(description="`eligible`, an eligibility reason code, or `not_on_roll`.")
    message: str
    tracker: str | None = Field(description="Tracker of the voter's counted ballot, if any.")
    cast_at: datetime | None


class BallotContextOut(Schema):
    election_hash: str
    joint_public_key: str
    alias: str
    questions: list[QuestionOut]


class BallotIn(Schema):
    """The ballot as election.mjs `encryptBallot` returns it (`ballot`)."""

    alias: str = Field(max_length=64)
    answers: list[dict[str, Any]] = Field(max_length=20)


class CastOut(Schema):
    tracker: str
    cast_at: datetime
    replaced_previous: bool = Field(description="An earlier ballot of this voter is superseded.")


class RejectedOut(InvalidOut):
    """422: `ballot_invalid` with each failing check in `failures`, another reason code
    (`alias_mismatch`, `audit_mismatch`, …), or `invalid` with the failing fields in `errors`."""

    failures: list[str] = Field(
        default_factory=list,
        description="For `ballot_invalid`: each failing check of the spec, with its item.",
    )


class AuditIn(Schema):
    ballot: BallotIn
    randomness: list[dict[str, Any]] = Field(
        max_length=20, description="encryptBallot's `secrets`: [{question, randomness: [hex]}]."
    )


class AuditOut(Schema):
    tracker: str
    selections: dict[str, list[str]]


class BoardRowOut(Schema):
    alias: str
    tracker: str
    cast_at: datetime
    superseded: bool


class BoardOut(Schema):
    count: int
    page: int
    pages: int
    results: list[BoardRowOut]


class BoardQuery(Schema):
    tracker: str = Field("", max_length=64, description="Start of a tracker (hex).")
    page: int = Field(1, ge=1)


class AuditedOut(Schema):
    """A spoiled ballot with its choices: published without the voter's alias."""

    tracker: str
    audited_at: datetime
    selections: dict[str, list[str]]
    ballot: dict[str, Any]
    randomness: list[Any]


class OptionResultOut(Schema):
    id: str
    text: str
    count: int


class QuestionResultOut(Schema):
    id: str
    text: str
    options: list[OptionResultOut]


class ResultsOut(Schema):
    election_id: int
    ballots_counted: int
    roll_size: int
    turnout: float
    published_at: datetime
    record_sha256: str
    questions: list[QuestionResultOut]


def _public(slug: str, election_id: int) -> Election:
    election = selectors.election_visible(municipality_or_404(slug), election_id, None)
    return election


@router.get(
    "/municipalities/{slug}/elections", response={200: list[ElectionOut], **errors(404)}, auth=None
)
def election_list(request: HttpRequest, slug: str) -> list[ElectionOut]:
    """Every election of the municipality except drafts."""
    return [ElectionOut.of(e) for e in selectors.elections_public(municipality_or_404(slug))]


@router.get(
    "/municipalities/{slug}/elections/{election_id}",
    response={200: ElectionOut, **errors(404, 422)},
    auth=None,
)
def election_detail(request: HttpRequest, slug: str, election_id: int) -> ElectionOut:
    return ElectionOut.of(_public(slug, election_id))


@router.get(
    "/municipalities/{slug}/my-elections",
    response={200: list[ElectionEligibilityOut], **errors(401, 404)},
    auth=AUTH,
    summary="My eligibility in every election",
)
def my_elections(request: HttpRequest, slug: str) -> list[ElectionEligibilityOut]:
    return [
        ElectionEligibilityOut(
            election_id=item.election.pk,
            allowed=item.status.allowed,
            can_cast_now=item.status.can_cast_now,
            code=item.status.code,
            message=str(item.status.message),
            tracker=item.ballot.tracker if item.ballot else None,
            cast_at=item.ballot.cast_at if item.ballot else None,
        )
        for item in selectors.my_elections(auth_user(request), municipality_or_404(slug))
    ]


@router.get(
    "/municipalities/{slug}/elections/{election_id}/eligibility",
    response={200: ElectionEligibilityOut, **errors(401, 404, 422)},
    auth=AUTH,
    summary="May I vote in this election, and if not, why",
)
def my_eligibility(request: HttpRequest, slug: str, election_id: int) -> ElectionEligibilityOut:
    user = auth_user(request)
    election = _public(slug, election_id)
    status = selectors.voter_status(user, election)
    ballot = selectors.my_ballot(user, election)
    return ElectionEligibilityOut(
        election_id=election.pk,
        allowed=status.allowed,
        can_cast_now=status.can_cast_now,
        code=status.code,
        message=str(status.message),
        tracker=ballot.tracker if ballot else None,
        cast_at=ballot.cast_at if ballot else None,
    )


@router.get(
    "/municipalities/{slug}/elections/{election_id}/ballot-context",
    response={200: BallotContextOut, **errors(401, 403, 404, 422)},
    auth=AUTH,
    summary="What the browser needs to encrypt my ballot",
)
def ballot_context(request: HttpRequest, slug: str, election_id: int) -> dict[str, Any]:
    return selectors.ballot_context(auth_user(request), _public(slug, election_id))


@router.post(
    "/municipalities/{slug}/elections/{election_id}/ballots",
    response={201: CastOut, **errors(400, 401, 403, 404, 409), 422: RejectedOut},
    auth=AUTH_BATCHED,
    summary="Cast an encrypted ballot",
    description=(
        "The body is the ballot election.mjs encrypted in the browser. 201 with the tracker; "
        "re-voting supersedes the previous ballot. 403 with the reason code (`under_age`, "
        "`not_verified`, …, `not_on_roll`); 409 `election_closed`, `election_not_open`, "
        "`ballot_audited`, `ballot_duplicate`; 422 `ballot_invalid` with the failing checks, or "
        "`alias_mismatch`."
    ),
)
async def ballot_cast(
    request: HttpRequest, slug: str, election_id: int, payload: BallotIn
) -> Status[Any] | HttpResponse:
    def render(receipt: services.CastReceipt) -> Status[CastOut]:
        return Status(
            201,
            CastOut(
                tracker=receipt.tracker,
                cast_at=receipt.cast_at,
                replaced_previous=receipt.replaced_previous,
            ),
        )

    claim = claim_current(render)
    try:
        receipt = await services.ballot_cast_batched(
            actor=request.auth,  # type: ignore[attr-defined]
            municipality_slug=slug,
            election_id=election_id,
            ballot_json=payload.dict(),
            idempotency=claim,
        )
    except services.BallotRejected as rejected:
        return Status(
            422,
            RejectedOut(
                code=rejected.code, message=str(rejected.message), failures=rejected.failures
            ),
        )
    return answered(claim) or render(receipt)


@router.post(
    "/municipalities/{slug}/elections/{election_id}/audits",
    response={201: AuditOut, **errors(400, 401, 403, 404, 409), 422: RejectedOut},
    auth=AUTH,
    summary="Audit (spoil) an encrypted ballot instead of casting it",
    description=(
        "Benaloh challenge: send the ballot with the randomness that encrypted it. The server "
        "checks both, publishes the spoiled ballot with its choices, and that ballot can never "
        "be cast. 422 `audit_mismatch` when the randomness does not give the ciphertexts."
    ),
)
def ballot_audit(
    request: HttpRequest, slug: str, election_id: int, payload: AuditIn
) -> Status[Any] | HttpResponse:
    try:
        return idempotent(
            lambda receipt: Status(
                201, AuditOut(tracker=receipt.tracker, selections=receipt.selections)
            ),
            services.ballot_audit,
            actor=auth_user(request),
            municipality=municipality_or_404(slug),
            election_id=election_id,
            ballot_json=payload.ballot.dict(),
            randomness=payload.randomness,
        )
    except services.BallotRejected as rejected:
        return Status(
            422,
            RejectedOut(
                code=rejected.code, message=str(rejected.message), failures=rejected.failures
            ),
        )


@router.get(
    "/municipalities/{slug}/elections/{election_id}/board",
    response={200: BoardOut, **errors(404, 422)},
    auth=None,
    summary="Bulletin board: every cast ballot, in the order received",
)
def bulletin_board(
    request: HttpRequest, slug: str, election_id: int, query: Query[BoardQuery]
) -> BoardOut:
    page = selectors.bulletin_board(
        _public(slug, election_id), query=query.tracker, page=query.page
    )
    return BoardOut(
        count=page.count,
        page=page.page,
        pages=page.pages,
        results=[
            BoardRowOut(
                alias=r.alias, tracker=r.tracker, cast_at=r.cast_at, superseded=r.superseded
            )
            for r in page.rows
        ],
    )


@router.get(
    "/municipalities/{slug}/elections/{election_id}/audited",
    response={200: list[AuditedOut], **errors(404, 422)},
    auth=None,
    summary="Audited (spoiled) ballots with their revealed randomness",
)
def audited(request: HttpRequest, slug: str, election_id: int) -> list[AuditedOut]:
    return [
        AuditedOut(
            tracker=a.tracker,
            audited_at=a.audited_at,
            selections=a.selections,
            ballot=a.ballot,
            randomness=a.randomness,
        )
        for a in selectors.audited_ballots(_public(slug, election_id))
    ]


@router.get(
    "/municipalities/{slug}/elections/{election_id}/results",
    response={200: ResultsOut, **errors(404, 422)},
    auth=None,
    summary="Published results with turnout (404 `not_published` before)",
)
def results(request: HttpRequest, slug: str, election_id: int) -> ResultsOut:
    election = _public(slug, election_id)
    found = selectors.results_of(election)
    if found is None:
        selectors.record_of(election)  # raises not_published
        raise AssertionError("unreachable")
    return ResultsOut(
        election_id=election.pk,
        ballots_counted=found.ballots_counted,
        roll_size=found.roll_size,
        turnout=found.turnout,
        published_at=found.published_at,
        record_sha256=found.record_sha256,
        questions=[
            QuestionResultOut(
                id=q.id,
                text=q.text,
                options=[OptionResultOut(id=o.id, text=o.text, count=o.count) for o in q.options],
            )
            for q in found.questions
        ],
    )


@router.get(
    "/municipalities/{slug}/elections/{election_id}/record.json",
    response={200: dict[str, Any], **errors(404, 422)},
    auth=None,
    summary="The complete election record (mebuku-election-record/1)",
    description="Check it with `python -m voting.verify record.json`.",
)
def record(request: HttpRequest, slug: str, election_id: int) -> HttpResponse:
    return exports.record_response(request, _public(slug, election_id))
