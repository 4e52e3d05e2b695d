"""The administrator's proposal types: an ordinance's rules for petitions of one kind."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from identity.decorators import current_municipality, current_user, staff_view
from identity.form_submit import form_status, form_submit
from identity.models import Municipality
from proposals import permissions, selectors, services
from proposals.forms import ProposalTypeForm
from proposals.models import ProposalType


def _type_or_404(municipality: Municipality, type_id: int) -> ProposalType:
    proposal_type = selectors.proposal_type(municipality, type_id)
    if proposal_type is None:
        raise Http404("No such proposal type")
    return proposal_type


@staff_view(permissions.can_manage_types)
@require_GET
def type_list(request: HttpRequest) -> HttpResponse:
    types = selectors.proposal_types(current_municipality(request))
    return render(request, "proposals/staff/types.html", {"types": types})


def _type_values(data: dict[str, Any]) -> services.ProposalTypeValues:
    return services.ProposalTypeValues(
        **{field: data[field] for field in ProposalTypeForm.FIELDS},
    )


@staff_view(permissions.can_manage_types)
@require_http_methods(["GET", "POST"])
def type_edit(request: HttpRequest, type_id: int | None = None) -> HttpResponse:
    municipality = current_municipality(request)
    proposal_type = _type_or_404(municipality, type_id) if type_id is not None else None
    form = ProposalTypeForm(
        request.POST or None, initial=ProposalTypeForm.initial_of(proposal_type)
    )
    saved = form_submit(
        form,
        lambda data: services.proposal_type_save(
            actor=current_user(request),
            municipality=municipality,
            type_id=type_id,
            values=_type_values(data),
        ),
    )
    if saved is not None:
        messages.success(
            request, _("The proposal type “%(name)s” was saved.") % {"name": saved.value}
        )
        return redirect("proposals:staff_types")
    return render(
        request,
        "proposals/staff/type_form.html",
        {"form": form, "proposal_type": proposal_type},
        status=form_status(form),
    )
