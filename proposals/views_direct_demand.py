"""Pages of a direct demand's paper side: the representative's collectors, and the election
office's certificate, collectors' list and blackout days."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import (
    current_municipality,
    current_user,
    municipality_required,
    staff_view,
)
from identity.errors import DomainError
from identity.form_submit import button_submit, form_status, form_submit
from proposals import legal_calendar, permissions, selectors, services
from proposals.forms import BlackoutForm, CollectorForm, SheetsForm
from proposals.models import Proposal
from proposals.services.direct_demand import APPOINTABLE
from proposals.sheets import render_sheets


def _represented(request: HttpRequest, proposal_id: int) -> Proposal:
    """The demand, for its representative only: to anyone else the page does not exist."""
    proposal = selectors.direct_demand(current_municipality(request), proposal_id)
    if proposal is None or proposal.author_id != current_user(request).pk:
        raise Http404("No such direct demand of yours")
    return proposal


@municipality_required
@login_required
@require_http_methods(["GET", "POST"])
def collectors(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = _represented(request, proposal_id)
    form = CollectorForm(request.POST or None)
    appointed = form_submit(
        form,
        lambda data: services.collector_appoint(
            actor=current_user(request),
            municipality=proposal.municipality,
            proposal_id=proposal.pk,
            name=data["name"],
            address=data["address"],
        ),
    )
    if appointed is not None:
        messages.success(
            request,
            _("%(name)s is appointed as collector no. %(n)s.")
            % {"name": appointed.value.name, "n": appointed.value.number},
        )
        return redirect("proposals:collectors", proposal_id=proposal.pk)
    return render(
        request,
        "proposals/collectors.html",
        {
            "proposal": proposal,
            "collectors": selectors.collectors_of(proposal),
            "printable": proposal.status in APPOINTABLE,
            "form": form,
        },
        status=form_status(form),
    )


@municipality_required
@login_required
@require_POST
def collector_revoke(request: HttpRequest, proposal_id: int, collector_id: int) -> HttpResponseBase:
    proposal = _represented(request, proposal_id)
    button_submit(
        request,
        lambda: services.collector_revoke(
            actor=current_user(request),
            municipality=proposal.municipality,
            proposal_id=proposal.pk,
            collector_id=collector_id,
        ),
        lambda revoked: _("The appointment of %(name)s was revoked.") % {"name": revoked.name},
    )
    return redirect("proposals:collectors", proposal_id=proposal.pk)


@municipality_required
@login_required
@require_GET
def signature_sheets(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    """Blank signature sheets for one collector, as a PDF (GET: a plain form, no JavaScript)."""
    form = SheetsForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose the collector and how many sheets to print."))
        return redirect("proposals:detail", proposal_id=proposal_id)
    try:
        proposal, collector = services.signature_sheets_print(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
            collector_id=form.cleaned_data["collector"],
            sheets=form.cleaned_data["sheets"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("proposals:detail", proposal_id=proposal_id)
    pdf = render_sheets(proposal, collector, form.cleaned_data["sheets"])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="shomeibo-{proposal.pk}-{collector.number}.pdf"'
    )
    return response


# The election office ----------------------------------------------------------------------------


@staff_view(permissions.can_certify)
@require_GET
def demand_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "proposals/staff/demands.html",
        {"proposals": selectors.direct_demands(current_municipality(request))},
    )


@staff_view(permissions.can_certify)
@require_GET
def demand_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = selectors.direct_demand(current_municipality(request), proposal_id)
    if proposal is None:
        raise Http404("No such direct demand")
    return render(
        request,
        "proposals/staff/demand_detail.html",
        {
            "proposal": proposal,
            "collectors": selectors.collectors_of(proposal),
            "deadlines": legal_calendar.deadlines(proposal, timezone.now()),
            "can_issue": proposal.certificate_issued_at is None
            and proposal.status in ("draft", "committee"),
        },
    )


@staff_view(permissions.can_certify)
@require_POST
def certificate_issue(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    button_submit(
        request,
        lambda: services.representative_certificate_issue(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        ),
        _("The representative's certificate was issued."),
    )
    return redirect("proposals:staff_demand", proposal_id=proposal_id)


@staff_view(permissions.can_certify)
@require_http_methods(["GET", "POST"])
def blackouts(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = BlackoutForm(request.POST or None)
    added = form_submit(
        form,
        lambda data: services.blackout_add(
            actor=current_user(request),
            municipality=municipality,
            values=services.BlackoutValues(data["starts_on"], data["ends_on"], data["reason"]),
        ),
    )
    if added is not None:
        messages.success(request, _("The blackout was entered."))
        return redirect("proposals:staff_blackouts")
    return render(
        request,
        "proposals/staff/blackouts.html",
        {"form": form, "blackouts": selectors.blackouts_of(municipality)},
        status=form_status(form),
    )
