"""The election office's pages: the register size behind fraction thresholds, and certification
(the signatory list, invalid signatures, objections, the certified count)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import current_municipality, current_user, staff_view
from identity.errors import DomainError
from identity.form_submit import button_submit, form_status, form_submit
from identity.selectors import people_of_verifications
from proposals import permissions, selectors, services
from proposals.forms import InvalidateForm, ObjectionAnswerForm, RegisterSizeForm
from proposals.models import Status, ThresholdKind

SIGNATORIES_PER_PAGE = 50


# The register size ------------------------------------------------------------------------------


@staff_view(permissions.can_enter_register_size)
@require_GET
def register_list(request: HttpRequest) -> HttpResponse:
    types = selectors.proposal_types(current_municipality(request)).filter(
        threshold_kind=ThresholdKind.REGISTER_FRACTION
    )
    return render(request, "proposals/staff/register_list.html", {"types": types})


@staff_view(permissions.can_enter_register_size)
@require_http_methods(["GET", "POST"])
def register_edit(request: HttpRequest, type_id: int) -> HttpResponse:
    municipality = current_municipality(request)
    proposal_type = selectors.proposal_type(municipality, type_id)
    if proposal_type is None:
        raise Http404("No such proposal type")
    if proposal_type.threshold_kind != ThresholdKind.REGISTER_FRACTION:
        raise Http404("Not a register fraction type")
    initial = {
        "register_size": proposal_type.register_size,
        "register_date": proposal_type.register_date.isoformat()
        if proposal_type.register_date
        else "",
    }
    form = RegisterSizeForm(request.POST or None, initial=initial)
    saved = form_submit(
        form,
        lambda data: services.proposal_type_register_set(
            actor=current_user(request),
            municipality=municipality,
            type_id=type_id,
            register_size=data["register_size"],
            register_date=data["register_date"],
        ),
    )
    if saved is not None:
        messages.success(
            request,
            _("Register size saved: %(name)s now needs %(n)s signatures.")
            % {"name": saved.value.name, "n": saved.value.threshold()},
        )
        return redirect("proposals:staff_register")
    return render(
        request,
        "proposals/staff/register_form.html",
        {"form": form, "proposal_type": proposal_type},
        status=form_status(form),
    )


# Certification ----------------------------------------------------------------------------------


@staff_view(permissions.can_certify)
@require_GET
def certification_queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "proposals/staff/certification_queue.html",
        {
            "proposals": selectors.certification_queue(current_municipality(request)),
            "now": timezone.now(),
        },
    )


@staff_view(permissions.can_certify)
@require_GET
def certification_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    municipality = current_municipality(request)
    try:
        # Names, birthdates and addresses follow: one audit entry per page shown.
        proposal = services.signatory_list_open(
            actor=current_user(request), municipality=municipality, proposal_id=proposal_id
        )
    except DomainError as error:
        raise Http404(str(error.message)) from error
    signatures = selectors.signatures_in_order(proposal)
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
            "objections": selectors.objections_of(proposal),
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
    municipality = current_municipality(request)
    if not selectors.signature_in(municipality, proposal_id, signature_id):
        raise Http404("No such signature")
    button_submit(
        request,
        lambda: services.signature_invalidate(
            actor=current_user(request),
            municipality=municipality,
            signature_id=signature_id,
            reason=form.cleaned_data["reason"],
        ),
        _("Signature %(id)s was marked invalid.") % {"id": signature_id},
    )
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def certification_publish(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    button_submit(
        request,
        lambda: services.certification_publish(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        ),
        lambda proposal: (
            _("The certified count (%(n)s) was published; the public inspection has begun.")
            % {"n": proposal.certified_count}
        ),
    )
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def objection_answer(request: HttpRequest, proposal_id: int, objection_id: int) -> HttpResponseBase:
    form = ObjectionAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the answer."))
        return _back_to_certification(proposal_id)
    municipality = current_municipality(request)
    if not selectors.objection_in(municipality, proposal_id, objection_id):
        raise Http404("No such objection")
    button_submit(
        request,
        lambda: services.objection_answer(
            actor=current_user(request),
            municipality=municipality,
            objection_id=objection_id,
            answer=form.cleaned_data["answer"],
        ),
        _("The objection was answered."),
    )
    return _back_to_certification(proposal_id)


@staff_view(permissions.can_certify)
@require_POST
def certification_finalize(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    finalized = button_submit(
        request,
        lambda: services.certification_finalize(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        ),
        lambda proposal: (
            _("Certification is complete: “%(status)s”.")
            % {"status": proposal.get_status_display()}
        ),
    )
    if finalized is None:
        return _back_to_certification(proposal_id)
    return redirect("proposals:staff_certification")
