"""Proposals in the JSON API: the public record, filing, signing, withdrawing, council answers."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from identity.api import AUTH, auth_user, errors, municipality_or_404, optional_user, page_slice
from identity.api_auth import AUTH_BATCHED
from identity.errors import NotFound
from identity.idempotency import answered, claim_current, idempotent
from proposals import selectors, services
from proposals.models import CouncilAnswer, Decision, Proposal, ProposalType
from proposals.models import Status as ProposalStatus

router = Router(tags=["proposals"])


class ProposalTypeOut(Schema):
    id: int
    name: str
    description: str
    threshold: int | None = Field(
        description="Signatures needed now (null until the register size is entered)."
    )
    collection_days: int | None
    collection_until: date | None
    min_age: int
    channels: list[str]
    committee_size: int
    certification_required: bool
    answer_deadline_days: int

    @staticmethod
    def of(kind: ProposalType) -> ProposalTypeOut:
        return ProposalTypeOut(
            id=kind.pk,
            name=kind.name,
            description=kind.description,
            threshold=kind.threshold(),
            collection_days=kind.collection_days,
            collection_until=kind.collection_until,
            min_age=kind.min_age,
            channels=kind.channels(),
            committee_size=kind.committee_size,
            certification_required=kind.certification_required,
            answer_deadline_days=kind.answer_deadline_days,
        )


class TimelineOut(Schema):
    status: str
    at: datetime
    note: str


class AnswerOut(Schema):
    proposal_id: int
    decision: Decision
    reasons: str
    answered_at: datetime


class ProposalOut(Schema):
    id: int
    type_id: int
    title: str
    summary: str
    category: str
    status: ProposalStatus
    signature_count: int
    threshold: int | None
    collection_opens_at: datetime | None
    collection_closes_at: datetime | None
    threshold_reached_at: datetime | None
    certified_count: int | None
    submitted_at: datetime | None
    answer_due_on: date | None
    created_at: datetime

    @staticmethod
    def of(proposal: Proposal) -> ProposalOut:
        return ProposalOut(
            id=proposal.pk,
            type_id=proposal.type_id,
            title=proposal.title,
            summary=proposal.summary,
            category=proposal.category,
            status=ProposalStatus(proposal.status),
            signature_count=proposal.signature_count,
            threshold=proposal.threshold,
            collection_opens_at=proposal.collection_opens_at,
            collection_closes_at=proposal.collection_closes_at,
            threshold_reached_at=proposal.threshold_reached_at,
            certified_count=proposal.certified_count,
            submitted_at=proposal.submitted_at,
            answer_due_on=proposal.answer_due_on,
            created_at=proposal.created_at,
        )


class RevisionOut(Schema):
    number: int = Field(description="1 for the first edit.")
    edited_at: datetime
    changed: list[str] = Field(description="The parts the edit changed, e.g. `title`, `body`.")


class ProposalDetailOut(ProposalOut):
    body: str
    location: str
    revisions: list[RevisionOut] = Field(
        default_factory=list, description="Edits of the text before collection opened."
    )
    inspection_ends_at: datetime | None = Field(
        None, description="End of the public inspection of a certified count (objections until)."
    )
    timeline: list[TimelineOut]
    answer: AnswerOut | None


class ProposalPage(Schema):
    count: int
    page: int
    results: list[ProposalOut]


class ProposalIn(Schema):
    type_id: int
    title: str = Field(max_length=120)
    summary: str = Field(max_length=400)
    body: str = Field(max_length=50_000)
    category: str = Field("", max_length=40)
    location: str = Field("", max_length=120)


class ProposalEditIn(Schema):
    """The parts to change; a part left out stays as it is."""

    title: str | None = Field(None, max_length=120)
    summary: str | None = Field(None, max_length=400)
    body: str | None = Field(None, max_length=50_000)
    category: str | None = Field(None, max_length=40)
    location: str | None = Field(None, max_length=120)
    based_on: int | None = Field(
        None,
        ge=0,
        description=(
            "The number of revisions you read (`len(revisions)` of the detail). If someone "
            "edited meanwhile the answer is 409 `edited_meanwhile` and nothing changes."
        ),
    )


class SignatureOut(Schema):
    signature_count: int
    threshold: int | None
    crossed_threshold: bool


class AnswerIn(Schema):
    decision: Decision
    reasons: str = Field(max_length=20_000)


class DailyOut(Schema):
    date: date
    new_signatures: int
    total_signatures: int


class ListQuery(Schema):
    q: str = Field("", max_length=100)
    status: ProposalStatus | None = None
    type_id: int | None = None
    category: str = Field("", max_length=40)
    sort: str = Field("new", pattern="^(new|signatures|closing)$")
    page: int = Field(1, ge=1)


PAGE_SIZE = 50


@router.get(
    "/municipalities/{slug}/proposal-types",
    response={200: list[ProposalTypeOut], **errors(404)},
    auth=None,
)
def proposal_types(request: HttpRequest, slug: str) -> list[ProposalTypeOut]:
    kinds = ProposalType.objects.filter(
        municipality=municipality_or_404(slug), is_active=True
    ).order_by("id")
    return [ProposalTypeOut.of(kind) for kind in kinds]


@router.get(
    "/municipalities/{slug}/proposals",
    response={200: ProposalPage, **errors(404, 422)},
    auth=None,
    description="50 a page; a page past the last is 404 `no_such_page`.",
)
def proposal_list(request: HttpRequest, slug: str, filters: Query[ListQuery]) -> ProposalPage:
    proposals = selectors.proposals_public(
        municipality_or_404(slug),
        selectors.ProposalFilter(
            query=filters.q,
            status=filters.status.value if filters.status else "",
            type_id=filters.type_id,
            category=filters.category,
            sort=filters.sort,
        ),
    )
    count = proposals.count()
    return ProposalPage(
        count=count,
        page=filters.page,
        results=[ProposalOut.of(p) for p in proposals[page_slice(count, filters.page, PAGE_SIZE)]],
    )


def _visible(request: HttpRequest, slug: str, proposal_id: int) -> Proposal:
    proposal = selectors.proposal_visible(
        municipality_or_404(slug), proposal_id, optional_user(request)
    )
    if proposal is None:
        raise NotFound(_("No such proposal here."))
    return proposal


@router.get(
    "/municipalities/{slug}/proposals/{proposal_id}",
    response={200: ProposalDetailOut, **errors(404, 422)},
    auth=None,
)
def proposal_detail(request: HttpRequest, slug: str, proposal_id: int) -> ProposalDetailOut:
    return _detail_out(_visible(request, slug, proposal_id))


def _detail_out(proposal: Proposal) -> ProposalDetailOut:
    answer = getattr(proposal, "answer", None)
    return ProposalDetailOut(
        **ProposalOut.of(proposal).dict(),
        body=proposal.body,
        location=proposal.location,
        inspection_ends_at=proposal.inspection_ends_at,
        revisions=[
            RevisionOut(number=r.number, edited_at=r.edited_at, changed=r.changed)
            for r in selectors.revisions_of(proposal)
        ],
        timeline=[
            TimelineOut(status=e.status, at=e.at, note=e.note) for e in proposal.timeline.all()
        ],
        answer=AnswerOut(
            proposal_id=proposal.pk,
            decision=Decision(answer.decision),
            reasons=answer.reasons,
            answered_at=answer.answered_at,
        )
        if answer
        else None,
    )


@router.get(
    "/municipalities/{slug}/proposals/{proposal_id}/daily",
    response={200: list[DailyOut], **errors(404, 422)},
    auth=None,
)
def proposal_daily(request: HttpRequest, slug: str, proposal_id: int) -> list[DailyOut]:
    proposal = _visible(request, slug, proposal_id)
    return [
        DailyOut(date=day, new_signatures=n, total_signatures=total)
        for day, n, total in selectors.daily_signatures(proposal)
    ]


@router.post(
    "/municipalities/{slug}/proposals",
    response={201: ProposalOut, **errors(400, 401, 403, 404, 422)},
    auth=AUTH,
)
def proposal_file(
    request: HttpRequest, slug: str, payload: ProposalIn
) -> Status[ProposalOut] | HttpResponse:
    return idempotent(
        lambda proposal: Status(201, ProposalOut.of(proposal)),
        services.proposal_file,
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        type_id=payload.type_id,
        draft=services.ProposalDraft(
            title=payload.title,
            summary=payload.summary,
            body=payload.body,
            category=payload.category,
            location=payload.location,
        ),
    )


@router.patch(
    "/municipalities/{slug}/proposals/{proposal_id}",
    response={200: ProposalDetailOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=AUTH,
    summary="Edit a proposal's text before collection opens",
    description=(
        "The author or a confirmed promoter changes the title, summary, text, category or "
        "location while the proposal is a draft or forming its committee; the replaced text is "
        "kept as a revision and the timeline shows the edit. 403 `not_author`; 404 for a draft "
        "that is not yours; 409 `not_editable` once collection has opened, or "
        "`edited_meanwhile`; 422 `invalid_text` (an empty title, summary or text)."
    ),
)
def proposal_edit(
    request: HttpRequest, slug: str, proposal_id: int, payload: ProposalEditIn
) -> ProposalDetailOut | HttpResponse:
    user, municipality = auth_user(request), municipality_or_404(slug)
    # A draft someone else wrote does not exist for this caller (as on its page): 404, not 403.
    if selectors.proposal_visible(municipality, proposal_id, user) is None:
        raise NotFound(_("No such proposal here."))
    return idempotent(
        _detail_out,
        services.proposal_edit,
        actor=user,
        municipality=municipality,
        proposal_id=proposal_id,
        changes=services.ProposalChanges(
            title=payload.title,
            summary=payload.summary,
            body=payload.body,
            category=payload.category,
            location=payload.location,
        ),
        based_on=payload.based_on,
    )


@router.post(
    "/municipalities/{slug}/proposals/{proposal_id}/open",
    response={200: ProposalOut, **errors(401, 403, 404, 409, 422)},
    auth=AUTH,
)
def proposal_open(request: HttpRequest, slug: str, proposal_id: int) -> ProposalOut | HttpResponse:
    return idempotent(
        ProposalOut.of,
        services.collection_open,
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        proposal_id=proposal_id,
    )


@router.post(
    "/municipalities/{slug}/proposals/{proposal_id}/signature",
    response={201: SignatureOut, **errors(401, 403, 404, 409, 410, 422)},
    auth=AUTH_BATCHED,
    summary="Sign a proposal",
    description=(
        "201 when counted; 409 `already_signed`; 403 with the eligibility reason code "
        "(`not_verified`, `under_age`, `not_resident`, …); 410 `collection_closed`."
    ),
)
async def signature_add(
    request: HttpRequest, slug: str, proposal_id: int
) -> Status[SignatureOut] | HttpResponse:
    def render(result: services.SignatureResult) -> Status[SignatureOut]:
        return Status(
            201,
            SignatureOut(
                signature_count=result.count,
                threshold=result.threshold,
                crossed_threshold=result.crossed_threshold,
            ),
        )

    claim = claim_current(render)
    result = await services.signature_add_batched(
        actor=request.auth,  # type: ignore[attr-defined]
        municipality_slug=slug,
        proposal_id=proposal_id,
        idempotency=claim,
    )
    return answered(claim) or render(result)


@router.delete(
    "/municipalities/{slug}/proposals/{proposal_id}/signature",
    response={200: SignatureOut, **errors(401, 403, 404, 409, 410, 422)},
    auth=AUTH,
    summary="Withdraw my signature",
    description=(
        "200 with the new count; 404 `not_signed` when you have no signature to withdraw (none "
        "yet, or withdrawn already); 409 `not_withdrawable` for a kind of proposal whose "
        "signatures cannot be withdrawn; 410 `collection_closed`."
    ),
)
def signature_withdraw(
    request: HttpRequest, slug: str, proposal_id: int
) -> SignatureOut | HttpResponse:
    def render(count: int) -> SignatureOut:
        threshold = Proposal.objects.values_list("threshold", flat=True).get(pk=proposal_id)
        return SignatureOut(signature_count=count, threshold=threshold, crossed_threshold=False)

    return idempotent(
        render,
        services.signature_withdraw,
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        proposal_id=proposal_id,
    )


@router.post(
    "/municipalities/{slug}/proposals/{proposal_id}/answer",
    response={201: AnswerOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=AUTH,
)
def proposal_answer(
    request: HttpRequest, slug: str, proposal_id: int, payload: AnswerIn
) -> Status[AnswerOut] | HttpResponse:
    def render(answer: CouncilAnswer) -> Status[AnswerOut]:
        return Status(
            201,
            AnswerOut(
                proposal_id=proposal_id,
                decision=Decision(answer.decision),
                reasons=answer.reasons,
                answered_at=answer.answered_at,
            ),
        )

    return idempotent(
        render,
        services.proposal_answer,
        actor=auth_user(request),
        municipality=municipality_or_404(slug),
        proposal_id=proposal_id,
        decision=payload.decision.value,
        reasons=payload.reasons,
    )


@router.get(
    "/municipalities/{slug}/answers", response={200: list[AnswerOut], **errors(404)}, auth=None
)
def answers(request: HttpRequest, slug: str) -> list[AnswerOut]:
    rows = CouncilAnswer.objects.filter(proposal__municipality=municipality_or_404(slug)).order_by(
        "answered_at"
    )
    return [
        AnswerOut(
            proposal_id=a.proposal_id,
            decision=Decision(a.decision),
            reasons=a.reasons,
            answered_at=a.answered_at,
        )
        for a in rows
    ]
