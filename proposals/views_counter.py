"""The counter clerk's page: signatures handed in at the counter or on paper sheets."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from identity.decorators import current_municipality, current_user, staff_view
from identity.errors import DomainError
from identity.form_submit import form_status
from identity.keys import PersonFacts
from proposals import permissions, selectors, services
from proposals.forms import PaperSignatureForm
from proposals.models import Proposal, SignatureChannel


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
    if request.GET.get("collector", "").isdigit():
        initial["collector"] = int(request.GET["collector"])
    return initial


@staff_view(permissions.can_enter_offline_signatures)
@require_http_methods(["GET", "POST"])
def paper_signatures(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    proposals = selectors.offline_signable(municipality)
    form = PaperSignatureForm(
        request.POST or None,
        proposals=proposals,
        collectors=selectors.paper_collectors(municipality),
        initial=_paper_initial(request, proposals),
    )
    # A refusal (not eligible, signed already) is about the person, not the form: the page says
    # it in its own box and keeps what was typed for the next entry.
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
                    row=data["row"],
                    collector_id=data["collector"].pk if data["collector"] else None,
                    written_on=data["written_on"],
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
            if data["collector"]:  # the next row is most likely on the same collector's sheet
                keep["collector"] = data["collector"].pk
            return redirect(f"{reverse('proposals:staff_paper')}?{urlencode(keep)}")
    return render(
        request,
        "proposals/staff/paper.html",
        {"form": form, "refusal": refusal, "has_proposals": proposals.exists()},
        status=422 if refusal or form_status(form) == 422 else 200,
    )
