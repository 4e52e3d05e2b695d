"""Staff pages of the proposals app: proposal types, the register size, certification, the
council's review and paper signatures. Thin: forms validate, services write, reads are scoped to
the municipality; every page is guarded by its permission predicate (with MFA)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import current_user, staff_view
from identity.errors import DomainError
from identity.exports import csv_response
from identity.keys import PersonFacts
from identity.models import Municipality
from identity.selectors import people_of_verifications
from proposals import permissions, services
from proposals.forms import (
    AnswerForm,
    ClarificationForm,
    DocumentForm,
    InvalidateForm,
    ObjectionAnswerForm,
    PaperSignatureForm,
    ProposalTypeForm,
    RegisterSizeForm,
)
from proposals.models import (
    SIGNABLE,
    Proposal,
    ProposalType,
    Signature,
    SignatureChannel,
    Status,
    ThresholdKind,
)
from proposals.rendering import render_markdown

SIGNATORIES_PER_PAGE = 50
COUNCIL_STATUSES = (Status.SUBMITTED, Status.UNDER_REVIEW)
OVERDUE_COLUMNS = (
    "proposal_id",
    "title",
    "status",
    "submitted_at",
    "answer_due_on",
    "days_overdue",
)


def _municipality(request: HttpRequest) -> Municipality:
    municipality: Municipality = request.municipality  # type: ignore[attr-defined]
    return municipality


def _status(form: Any) -> int:
    return 422 if form.is_bound and form.errors else 200


# Reads (staff-scoped; they never leave the municipality) ----------------------------------------


def _types(municipality: Municipality) -> QuerySet[ProposalType]:
    return ProposalType.objects.filter(municipality=municipality).order_by("name", "id")


def _type_or_404(municipality: Municipality, type_id: int) -> ProposalType:
    proposal_type = _types(municipality).filter(pk=type_id).first()
    if proposal_type is None:
        raise Http404("No such proposal type")
    return proposal_type


def _certification_queue(municipality: Municipality) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(municipality=municipality, status=Status.CERTIFICATION)
        .select_related("type")
        .annotate(open_objections=Count("objections", filter=Q(objections__answered_at=None)))
        .order_by("collection_closes_at", "id")
    )


def _council_queue(municipality: Municipality) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(municipality=municipality, status__in=COUNCIL_STATUSES)
        .select_related("type")
        .order_by("answer_due_on", "id")
    )


def _council_proposal_or_404(municipality: Municipality, proposal_id: int) -> Proposal:
    proposal = (
        Proposal.objects.select_related("type", "author")
        .filter(pk=proposal_id, municipality=municipality)
        .exclude(status__in=(Status.DRAFT, Status.COMMITTEE))
        .first()
    )
    if proposal is None:
        raise Http404("No such proposal")
    return proposal


def _offline_proposals(municipality: Municipality) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(
            municipality=municipality,
            status__in=SIGNABLE,
            collection_closes_at__gt=timezone.now(),
        )
        .filter(Q(type__accepts_counter=True) | Q(type__accepts_paper=True))
        .select_related("type")
        .order_by("title", "id")
    )


# Proposal types (administrator) and the register size (election office) ------------------------


@staff_view(permissions.can_manage_types)
@require_GET
def type_list(request: HttpRequest) -> HttpResponse:
    return render(request, "proposals/staff/types.html", {"types": _types(_municipality(request))})


def _type_values(data: dict[str, Any]) -> services.ProposalTypeValues:
    return services.ProposalTypeValues(
        **{field: data[field] for field in ProposalTypeForm.FIELDS},
    )


@staff_view(permissions.can_manage_types)
@require_http_methods(["GET", "POST"])
def type_edit(request: HttpRequest, type_id: int | None = None) -> HttpResponse:
    municipality = _municipality(request)
    proposal_type = _type_or_404(municipality, type_id) if type_id is not None else None
    form = ProposalTypeForm(
        request.POST or None, initial=ProposalTypeForm.initial_of(proposal_type)
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.proposal_type_save(
                actor=current_user(request),
                municipality=municipality,
                type_id=type_id,
                values=_type_values(form.cleaned_data),
            )
        except services.TypeInvalid as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(
                request, _("The proposal type “%(name)s” was saved.") % {"name": saved}
            )
            return redirect("proposals:staff_types")
    return render(
        request,
        "proposals/staff/type_form.html",
        {"form": form, "proposal_type": proposal_type},
        status=_status(form),
    )


@staff_view(permissions.can_enter_register_size)
@require_GET
def register_list(request: HttpRequest) -> HttpResponse:
    types = _types(_municipality(request)).filter(threshold_kind=ThresholdKind.REGISTER_FRACTION)
    return render(request, "proposals/staff/register_list.html", {"types": types})


@staff_view(permissions.can_enter_register_size)
@require_http_methods(["GET", "POST"])
def register_edit(request: HttpRequest, type_id: int) -> HttpResponse:
    municipality = _municipality(request)
    proposal_type = _type_or_404(municipality, type_id)
    if proposal_type.threshold_kind != ThresholdKind.REGISTER_FRACTION:
        raise Http404("Not a register fraction type")
    initial = {
        "register_size": proposal_type.register_size,
        "register_date": proposal_type.register_date.isoformat()
        if proposal_type.register_date
        else "",
    }
    form = RegisterSizeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.proposal_type_register_set(
                actor=current_user(request),
                municipality=municipality,
                type_id=type_id,
                register_size=form.cleaned_data["register_size"],
                register_date=form.cleaned_data["register_date"],
            )
        except services.TypeInvalid as error:
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(
                request,
                _("Register size saved: %(name)s now needs %(n)s signatures.")
                % {"name": saved.name, "n": saved.threshold()},
            )
            return redirect("proposals:staff_register")
    return render(
        request,
        "proposals/staff/register_form.html",
        {"form": form, "proposal_type": proposal_type},
        status=_status(form),
    )


# Certification (election office) ----------------------------------------------------------------


@staff_view(permissions.can_certify)
@require_GET
def certification_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "proposals/staff/certification_queue.html",
        {"proposals": _certification_queue(_municipality(request)), "now": timezone.now()},
    )


@staff_view(permissions.can_certify)
@require_GET
def certification_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    municipality = _municipality(request)
    try:
        # Names, birthdates and addresses follow: one audit entry per page shown.
        proposal = services.signatory_list_open(
            actor=current_user(request), municipality=municipality, proposal_id=proposal_id
        )
    except DomainError as error:
        raise Http404(str(error.message)) from error
    signatures = Signature.objects.filter(proposal=proposal).order_by("signed_at", "id")
    page = Paginator(signatures, SIGNATORIES_PER_PAGE).get_page(request.GET.get("page"))
    people = people_of_verifications(
        [s.verification_id for s in page.object_list if s.verification_id]
    )
    rows = [(signature, people.get(signature.verification_id or 0)) for signature in page]
    now = timezone.now()
    certifying = proposal.status == Status.CERTIFICATION
    return render(
        request,
        "proposals/staff/certification_detail.html",
        {
            "proposal": proposal,
            "page": page,
            "rows": rows,
            "objections": proposal.objections.select_related("filed_by").order_by("filed_at"),
            "certifying": certifying,
            "can_invalidate": certifying and proposal.certified_count is None,
            "can_finalize": certifying
            and proposal.inspection_ends_at is not None
            and now >= proposal.inspection_ends_at,
            "invalidate_form": InvalidateForm(),
            "answer_form": ObjectionAnswerForm(),
        },
    )


def _back_to_certification(proposal_id: int) -> HttpResponseBase:
    return redirect("proposals:staff_certification_detail", proposal_id=proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def signature_invalidate(
    request: HttpRequest, proposal_id: int, signature_id: int
) -> HttpResponseBase:
    form = InvalidateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why the signature is invalid."))
        return _back_to_certification(proposal_id)
    municipality = _municipality(request)
    if not Signature.objects.filter(
        pk=signature_id, proposal_id=proposal_id, proposal__municipality=municipality
    ).exists():
        raise Http404("No such signature")
    try:
        services.signature_invalidate(
            actor=current_user(request),
            municipality=municipality,
            signature_id=signature_id,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Signature %(id)s was marked invalid.") % {"id": signature_id})
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def certification_publish(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    try:
        proposal = services.certification_publish(
            actor=current_user(request),
            municipality=_municipality(request),
            proposal_id=proposal_id,
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The certified count (%(n)s) was published; the public inspection has begun.")
            % {"n": proposal.certified_count},
        )
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def objection_answer(request: HttpRequest, proposal_id: int, objection_id: int) -> HttpResponseBase:
    form = ObjectionAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the answer."))
        return _back_to_certification(proposal_id)
    municipality = _municipality(request)
    if not Proposal.objects.filter(
        pk=proposal_id, municipality=municipality, objections__pk=objection_id
    ).exists():
        raise Http404("No such objection")
    try:
        services.objection_answer(
            actor=current_user(request),
            municipality=municipality,
            objection_id=objection_id,
            answer=form.cleaned_data["answer"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The objection was answered."))
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def certification_finalize(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    try:
        proposal = services.certification_finalize(
            actor=current_user(request),
            municipality=_municipality(request),
            proposal_id=proposal_id,
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return _back_to_certification(proposal_id)
    messages.success(
        request,
        _("Certification is complete: “%(status)s”.") % {"status": proposal.get_status_display()},
    )
    return redirect("proposals:staff_certification")


# The council's review -------------------------------------------------------------------------


@staff_view(permissions.can_review)
@require_GET
def council_queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    proposals = list(_council_queue(_municipality(request)))
    overdue = [p for p in proposals if p.answer_due_on is not None and p.answer_due_on < today]
    return render(
        request,
        "proposals/staff/council_queue.html",
        {
            "proposals": proposals,
            "overdue_ids": {p.pk for p in overdue},
            "overdue_count": len(overdue),
            "today": today,
        },
    )


@staff_view(permissions.can_review)
@require_GET
def council_overdue_csv(request: HttpRequest) -> HttpResponseBase:
    municipality = _municipality(request)
    today = timezone.localdate()
    overdue = _council_queue(municipality).filter(answer_due_on__lt=today)
    return csv_response(
        request,
        f"council-overdue-{municipality.slug}-{today.isoformat()}.csv",
        OVERDUE_COLUMNS,
        (
            [
                p.pk,
                p.title,
                p.status,
                p.submitted_at,
                p.answer_due_on,
                (today - p.answer_due_on).days if p.answer_due_on else "",
            ]
            for p in overdue.iterator(chunk_size=500)
        ),
    )


def _council_page(
    request: HttpRequest,
    proposal: Proposal,
    *,
    clarification_form: forms.Form | None = None,
    document_form: forms.Form | None = None,
    answer_form: forms.Form | None = None,
) -> HttpResponse:
    bound = [f for f in (clarification_form, document_form, answer_form) if f is not None]
    reviewing = proposal.status in COUNCIL_STATUSES
    today = timezone.localdate()
    return render(
        request,
        "proposals/staff/council_detail.html",
        {
            "proposal": proposal,
            "body": render_markdown(proposal.body),
            "reviewing": reviewing,
            "overdue": reviewing
            and proposal.answer_due_on is not None
            and proposal.answer_due_on < today,
            "documents": proposal.documents.order_by("uploaded_at", "id"),
            "timeline": proposal.timeline.all(),
            "clarification_form": clarification_form or ClarificationForm(),
            "document_form": document_form or DocumentForm(),
            "answer_form": answer_form or AnswerForm(),
        },
        status=422 if any(f.errors for f in bound) else 200,
    )


@staff_view(permissions.can_review)
@require_GET
def council_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _council_page(request, _council_proposal_or_404(_municipality(request), proposal_id))


def _back_to_council(proposal_id: int) -> HttpResponseBase:
    return redirect("proposals:staff_council_detail", proposal_id=proposal_id)


@staff_view(permissions.can_review)
@require_POST
def council_review_start(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    try:
        services.review_start(
            actor=current_user(request),
            municipality=_municipality(request),
            proposal_id=proposal_id,
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The review has started."))
    return _back_to_council(proposal_id)


CouncilAction = Callable[[Municipality, Proposal, dict[str, Any]], object]


def _council_form_post(
    request: HttpRequest,
    proposal_id: int,
    form_class: type[forms.Form],
    slot: str,
    perform: CouncilAction,
    success: str,
    then: Callable[[Proposal], HttpResponseBase] | None = None,
) -> HttpResponseBase:
    """The council's form actions: validate, call the service, then go back to the proposal's
    review page — or show the page again with the form's errors (nothing changed)."""
    municipality = _municipality(request)
    proposal = _council_proposal_or_404(municipality, proposal_id)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            perform(municipality, proposal, form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, success)
            return then(proposal) if then is not None else _back_to_council(proposal.pk)
    return _council_page(request, proposal, **{slot: form})


@staff_view(permissions.can_review)
@require_POST
def council_clarify(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _council_form_post(
        request,
        proposal_id,
        ClarificationForm,
        "clarification_form",
        lambda municipality, proposal, data: services.clarification_request(
            actor=current_user(request),
            municipality=municipality,
            proposal_id=proposal.pk,
            question=data["question"],
        ),
        _("Your question was sent to the author."),
    )


@staff_view(permissions.can_review)
@require_POST
def council_document(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _council_form_post(
        request,
        proposal_id,
        DocumentForm,
        "document_form",
        lambda municipality, proposal, data: services.document_attach(
            actor=current_user(request),
            municipality=municipality,
            proposal_id=proposal.pk,
            title=data["title"],
            file=data["file"],
        ),
        _("The document was attached."),
    )


@staff_view(permissions.can_review)
@require_POST
def council_answer(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    return _council_form_post(
        request,
        proposal_id,
        AnswerForm,
        "answer_form",
        lambda municipality, proposal, data: services.proposal_answer(
            actor=current_user(request),
            municipality=municipality,
            proposal_id=proposal.pk,
            decision=data["decision"],
            reasons=data["reasons"],
        ),
        _("The council's answer was published."),
        then=lambda proposal: redirect("proposals:detail", proposal_id=proposal.pk),
    )


# Paper and counter signatures (counter clerk) ---------------------------------------------------


def _paper_initial(request: HttpRequest, proposals: QuerySet[Proposal]) -> dict[str, Any]:
    """After an entry the page comes back with the proposal, channel and sheet kept."""
    initial: dict[str, Any] = {"channel": SignatureChannel.PAPER}
    proposal_id = request.GET.get("proposal", "")
    if proposal_id.isdigit():
        initial["proposal"] = int(proposal_id)
    else:
        first_two = list(proposals.values_list("pk", flat=True)[:2])
        if len(first_two) == 1:  # only one to choose: choose it
            initial["proposal"] = first_two[0]
    if request.GET.get("channel") in (SignatureChannel.PAPER, SignatureChannel.COUNTER):
        initial["channel"] = request.GET["channel"]
    initial["sheet"] = request.GET.get("sheet", "")[:40]
    return initial


@staff_view(permissions.can_enter_offline_signatures)
@require_http_methods(["GET", "POST"])
def paper_signatures(request: HttpRequest) -> HttpResponse:
    municipality = _municipality(request)
    proposals = _offline_proposals(municipality)
    form = PaperSignatureForm(
        request.POST or None, proposals=proposals, initial=_paper_initial(request, proposals)
    )
    refusal: str | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        proposal: Proposal = data["proposal"]
        try:
            result = services.signature_add_offline(
                actor=current_user(request),
                municipality=municipality,
                proposal_id=proposal.pk,
                entry=services.OfflineSignature(
                    person=PersonFacts(data["name"], data["birth_date"], data["address"]),
                    channel=data["channel"],
                    sheet=data["sheet"],
                ),
            )
        except DomainError as error:
            refusal = str(error.message)
        else:
            messages.success(
                request,
                _("Signature entered for “%(title)s”: now %(n)s signatures.")
                % {"title": proposal.title, "n": result.count},
            )
            keep = {"proposal": proposal.pk, "channel": data["channel"], "sheet": data["sheet"]}
            return redirect(f"{reverse('proposals:staff_paper')}?{urlencode(keep)}")
    return render(
        request,
        "proposals/staff/paper.html",
        {"form": form, "refusal": refusal, "has_proposals": proposals.exists()},
        status=422 if refusal or _status(form) == 422 else 200,
    )
