"""Proposal pages. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import (
    current_municipality,
    current_user,
    municipality_required,
    staff_view,
)
from identity.errors import DomainError
from identity.exports import csv_response
from identity.form_submit import button_submit, form_status, form_submit
from identity.models import User
from proposals import exports, legal_calendar, permissions, selectors, services
from proposals.charts import ChartData, Size, chart_description, chart_svg
from proposals.forms import (
    CommitteeInviteForm,
    ObjectionForm,
    ProposalEditForm,
    ProposalFilterForm,
    ProposalForm,
)
from proposals.models import InvitationState, Proposal, Status
from proposals.rendering import render_markdown


def _user_or_none(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@municipality_required
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = ProposalFilterForm(request.GET or None, municipality=municipality)
    filters = selectors.ProposalFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.ProposalFilter(
            query=data["q"],
            status=data["status"],
            type_id=data["type"].pk if data["type"] else None,
            sort=data["sort"] or "new",
        )
    page = Paginator(selectors.proposals_public(municipality, filters), 20).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "proposals/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _proposal_or_404(request: HttpRequest, proposal_id: int) -> Proposal:
    proposal = selectors.proposal_visible(
        current_municipality(request), proposal_id, _user_or_none(request)
    )
    if proposal is None:
        raise Http404("No such proposal")
    return proposal


WITHDRAWABLE = (Status.DRAFT, Status.COMMITTEE, Status.COLLECTING, Status.THRESHOLD_REACHED)
COUNCIL_STAGES = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.ANSWERED)


def _resident_extras(
    proposal: Proposal, user: User | None, now: datetime, collecting: bool
) -> dict[str, Any]:
    """What the page shows beyond the proposal itself: following, the committee, the author's
    actions, certification and the council's answer."""
    is_author = user is not None and proposal.author_id == user.pk
    viewer = user if user is not None else AnonymousUser()
    committee = selectors.committee_members(proposal) if proposal.type.committee_size else []
    answer = selectors.council_answer(proposal) if proposal.status == Status.ANSWERED else None
    return {
        "is_author": is_author,
        "following": user is not None and selectors.is_following(proposal, user),
        "committee": committee,
        "committee_confirmed": sum(1 for m in committee if m.state == InvitationState.ACCEPTED),
        "my_invitation": next(
            (
                m
                for m in committee
                if user is not None and m.user_id == user.pk and m.state == InvitationState.PENDING
            ),
            None,
        )
        if proposal.status == Status.COMMITTEE
        else None,
        "can_invite": is_author
        and proposal.type.committee_size > 0
        and proposal.status in (Status.DRAFT, Status.COMMITTEE),
        "can_withdraw": is_author and proposal.status in WITHDRAWABLE,
        "can_edit": selectors.may_edit(proposal, user),
        "can_close_early": is_author and collecting and proposal.status == Status.THRESHOLD_REACHED,
        "inspecting": proposal.status == Status.CERTIFICATION
        and proposal.inspection_ends_at is not None
        and now < proposal.inspection_ends_at,
        "answer": answer,
        "answer_reasons": render_markdown(answer.reasons) if answer else "",
        "documents": selectors.council_documents_visible(proposal, viewer)
        if proposal.status in COUNCIL_STAGES
        else [],
    }


def _detail_page(
    request: HttpRequest,
    proposal: Proposal,
    *,
    objection_form: ObjectionForm | None = None,
    invite_form: CommitteeInviteForm | None = None,
) -> HttpResponse:
    user = _user_or_none(request)
    now = timezone.now()
    collecting = proposal.is_collecting(now)
    signature = selectors.my_signature(proposal, user)
    signed = signature is not None
    blackout = (
        legal_calendar.blackout_on(proposal.municipality, legal_calendar.tokyo_day(now))
        if collecting and proposal.type.direct_demand
        else None
    )
    decision = (
        permissions.can_sign(request.user, proposal.municipality, proposal.type, now)
        if collecting and not signed and blackout is None
        else None
    )
    daily = selectors.daily_signatures(proposal)
    percent = (
        min(100, round(100 * proposal.signature_count / proposal.threshold))
        if proposal.threshold
        else 0
    )
    bound = [f for f in (objection_form, invite_form) if f is not None]
    return render(
        request,
        "proposals/detail.html",
        {
            "proposal": proposal,
            "body": render_markdown(proposal.body),
            "collecting": collecting,
            "signed": signed,
            "signature": signature,
            "decision": decision,
            "blackout": blackout,
            "blackout_message": legal_calendar.blackout_message(blackout) if blackout else "",
            "percent": percent,
            "timeline": selectors.timeline(proposal, now),
            "days_left": proposal.days_left(now),
            "daily": daily,
            "chart_description": chart_description(_chart_data(proposal, daily)),
            "objection_form": objection_form or ObjectionForm(),
            "invite_form": invite_form or CommitteeInviteForm(),
            **_resident_extras(proposal, user, now, collecting),
        },
        status=422 if any(f.errors for f in bound) else 200,
    )


def _chart_data(proposal: Proposal, daily: list[Any]) -> ChartData:
    return ChartData(
        daily=daily, threshold=proposal.threshold, last_signing_day=proposal.last_signing_day()
    )


# pygal writes a <style> (and a config <script>, which an SVG shown as an image never runs) into
# the chart: this document alone may use inline style; it runs no script at all.
@csp_replace({"style-src": [SELF, UNSAFE_INLINE], "script-src": [NONE]})
@municipality_required
@require_GET
def signature_chart(request: HttpRequest, proposal_id: int, size: Size) -> HttpResponse:
    proposal = _proposal_or_404(request, proposal_id)
    daily = selectors.daily_signatures(proposal)
    if not daily:
        raise Http404("No signatures collected yet")  # the page shows no chart either
    data = _chart_data(proposal, daily)
    return HttpResponse(chart_svg(data, size), content_type="image/svg+xml; charset=utf-8")


@municipality_required
@require_GET
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _detail_page(request, _proposal_or_404(request, proposal_id))


@municipality_required
@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = ProposalForm(request.POST or None, municipality=municipality)
    filed = form_submit(
        form,
        lambda data: services.proposal_file(
            actor=current_user(request),
            municipality=municipality,
            type_id=data["type"].pk,
            draft=services.ProposalDraft(
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                category=data["category"],
                location=data["location"],
            ),
        ),
    )
    if filed is not None:
        messages.success(request, _("Your proposal was saved as a draft."))
        return redirect("proposals:detail", proposal_id=filed.value.pk)
    return render(request, "proposals/new.html", {"form": form}, status=422 if form.errors else 200)


def _back(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    """Back to the page the form was on when it says so (`next`: My account lists committee
    invitations), if that is a page of this host; else to the proposal."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("proposals:detail", proposal_id=proposal_id)


@municipality_required
@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _proposal_or_404(request, proposal_id)
    user = current_user(request)
    if not selectors.may_edit(proposal, user):
        messages.error(
            request,
            _(
                "Only the author and the confirmed promoters can edit the text, until signature "
                "collection opens."
            ),
        )
        return redirect("proposals:detail", proposal_id=proposal.pk)
    revisions = selectors.revisions_of(proposal).count()
    form = ProposalEditForm(
        request.POST or None,
        initial={
            "title": proposal.title,
            "summary": proposal.summary,
            "body": proposal.body,
            "category": proposal.category,
            "location": proposal.location,
            "based_on": revisions,
        },
    )
    edited = form_submit(
        form,
        lambda data: services.proposal_edit(
            actor=user,
            municipality=current_municipality(request),
            proposal_id=proposal.pk,
            changes=services.ProposalChanges(
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                category=data["category"],
                location=data["location"],
            ),
            based_on=data["based_on"],
        ),
    )
    if edited is not None:
        messages.success(request, _("Your changes were saved."))
        return redirect("proposals:detail", proposal_id=proposal.pk)
    return render(
        request,
        "proposals/edit.html",
        {"proposal": proposal, "form": form},
        status=form_status(form),
    )


def _act(
    request: HttpRequest, proposal_id: int, success: str, action: Callable[..., object]
) -> HttpResponseBase:
    button_submit(
        request,
        lambda: action(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        ),
        success,
    )
    return _back(request, proposal_id)


@municipality_required
@login_required
@require_POST
def proposal_sign(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request, proposal_id, _("Thank you — your signature was counted."), services.signature_add
    )


@municipality_required
@login_required
@require_POST
def signature_withdraw(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request, proposal_id, _("Your signature was withdrawn."), services.signature_withdraw
    )


@municipality_required
@login_required
@require_POST
def collection_open(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(request, proposal_id, _("Signature collection is open."), services.collection_open)


@municipality_required
@login_required
@require_POST
def follow(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request,
        proposal_id,
        _("You follow this proposal: we will e-mail you when it reaches its goal or is answered."),
        services.follow_add,
    )


@municipality_required
@login_required
@require_POST
def unfollow(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request, proposal_id, _("You no longer follow this proposal."), services.follow_remove
    )


@municipality_required
@login_required
@require_POST
def committee_invite(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    proposal = _proposal_or_404(request, proposal_id)
    form = CommitteeInviteForm(request.POST)
    invited = form_submit(
        form,
        lambda data: services.committee_invite(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal.pk,
            email=data["email"],
        ),
        error_field="email",
    )
    if invited is not None:
        messages.success(
            request,
            _("%(email)s was invited to the promoters' committee.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("proposals:detail", proposal_id=proposal.pk)
    return _detail_page(request, proposal, invite_form=form)


@municipality_required
@login_required
@require_POST
def committee_accept(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request,
        proposal_id,
        _("You accepted: you are a promoter of this proposal."),
        services.committee_accept,
    )


@municipality_required
@login_required
@require_POST
def committee_decline(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request,
        proposal_id,
        _("You declined the invitation to the promoters' committee."),
        services.committee_decline,
    )


@municipality_required
@login_required
@require_POST
def proposal_withdraw(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(request, proposal_id, _("Your proposal was withdrawn."), services.proposal_withdraw)


@municipality_required
@login_required
@require_POST
def collection_close(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _act(
        request,
        proposal_id,
        _("Signature collection is closed; the proposal moves on."),
        services.collection_close_early,
    )


@municipality_required
@login_required
@require_POST
def objection_file(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    proposal = _proposal_or_404(request, proposal_id)
    form = ObjectionForm(request.POST)
    filed = form_submit(
        form,
        lambda data: services.objection_file(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal.pk,
            text=data["text"],
        ),
    )
    if filed is not None:
        messages.success(
            request, _("Your objection was filed. The election office will answer it.")
        )
        return redirect("proposals:detail", proposal_id=proposal.pk)
    return _detail_page(request, proposal, objection_form=form)


@municipality_required
@require_GET
def proposals_csv(request: HttpRequest) -> HttpResponseBase:
    municipality = current_municipality(request)
    proposals = selectors.proposals_public(municipality, selectors.ProposalFilter()).order_by("id")
    return csv_response(
        request,
        f"proposals-{municipality.slug}.csv",
        exports.PROPOSAL_COLUMNS,
        exports.proposal_rows(proposals),
    )


@municipality_required
@require_GET
def daily_csv(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    proposal = _proposal_or_404(request, proposal_id)
    return csv_response(
        request,
        f"proposal-{proposal.pk}-daily.csv",
        exports.DAILY_COLUMNS,
        (
            [day.isoformat(), count, total]
            for day, count, total in selectors.daily_signatures(proposal)
        ),
    )


@municipality_required
@require_GET
def answers_csv(request: HttpRequest) -> HttpResponseBase:
    municipality = current_municipality(request)
    answers = selectors.council_answers_public(municipality)
    return csv_response(
        request,
        f"council-answers-{municipality.slug}.csv",
        exports.ANSWER_COLUMNS,
        exports.answer_rows(answers),
    )


async def _blocks(handle: File, size: int) -> AsyncIterator[bytes]:
    read = sync_to_async(handle.read, thread_sensitive=False)
    while block := await read(size):
        yield block


@municipality_required
@require_GET
def council_document(request: HttpRequest, proposal_id: int, document_id: int) -> FileResponse:
    """A council document, streamed from the storage (file system or object storage) once the
    selector says this visitor may read it; 404 otherwise, as for a document that does not exist."""
    document = selectors.council_document_visible(
        current_municipality(request), proposal_id, document_id, request.user
    )
    if document is None:
        raise Http404("No such document")
    try:
        handle = document.file.storage.open(str(document.file.name), "rb")
    except FileNotFoundError:
        raise Http404("The document's file is missing") from None
    # FileResponse writes Content-Disposition with the original name, RFC 5987-encoded when it
    # is not ASCII (most Japanese names).
    response = FileResponse(
        handle,
        content_type=document.content_type,
        filename=document.original_name or f"document-{document.pk}",
    )
    if isinstance(request, ASGIRequest):
        # Under ASGI a sync file would be read whole into memory first; read it in blocks in a
        # worker thread instead (the storage may be remote). FileResponse still closes it.
        response.streaming_content = _blocks(handle, response.block_size)
    response["X-Content-Type-Options"] = "nosniff"
    if not selectors.council_documents_public(document.proposal):
        response["Cache-Control"] = "private, no-store"
    return response


@staff_view(permissions.can_certify)
@require_GET
def signatories_csv(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    try:
        proposal = services.signatory_list_open(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        )
    except DomainError as error:
        raise Http404(str(error.message)) from error
    return csv_response(
        request,
        f"proposal-{proposal.pk}-signatories.csv",
        exports.SIGNATORY_COLUMNS,
        exports.signatory_rows(proposal),
    )
