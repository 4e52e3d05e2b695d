"""The trustee's page: how to make a key pair with the trustee tool, the public key upload, and
after voting the tally download and the decryption upload. Only the election's own trustees may
open it; their secret key never reaches the server (a file containing it is refused)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from identity.decorators import current_municipality, current_user, municipality_required
from identity.errors import DomainError
from identity.models import Municipality, User
from voting import selectors, services
from voting.forms import JsonUploadForm
from voting.models import Election, Status, Trustee


@dataclass(frozen=True)
class Refusal:
    """What identity/forbidden.html shows."""

    code: str
    message: Any


NOT_TRUSTEE = Refusal(
    "not_trustee",
    gettext_lazy("This page is only for the trustees of this election."),
)


def _trustee_or_refusal(
    request: HttpRequest, election_id: int
) -> tuple[Election, Trustee] | HttpResponse:
    election = selectors.election_in(current_municipality(request), election_id)
    if election is None:
        raise Http404("No such election")
    user = current_user(request)
    trustee = selectors.trustee_of(user, election)
    if trustee is None:
        return render(request, "identity/forbidden.html", {"decision": NOT_TRUSTEE}, status=403)
    return election, trustee


def _page(
    request: HttpRequest,
    election: Election,
    trustee: Trustee,
    *,
    key_form: JsonUploadForm | None = None,
    factors_form: JsonUploadForm | None = None,
    refusal: str | None = None,
) -> HttpResponse:
    bound = [f for f in (key_form, factors_form) if f is not None]
    decrypted = hasattr(trustee, "decryption") and election.status in (
        Status.TALLIED,
        Status.PUBLISHED,
    )
    others = selectors.co_trustees(election, trustee)
    return render(
        request,
        "voting/trustee.html",
        {
            "election": election,
            "trustee": trustee,
            "others": others,
            "key_file": f"key-{election.pk}-{trustee.tid}.json",
            "decrypted": decrypted,
            "key_form": key_form or JsonUploadForm(prefix="key"),
            "factors_form": factors_form or JsonUploadForm(prefix="factors"),
            "refusal": refusal,
            "keygen_data": {
                "target": "id_key-text",
                "working": _("Making the key pair…"),
                "made": _("Your key pair is ready. Save the key file now."),
                "saved": _(
                    "The public part is in the form below. Check that your key file was saved, "
                    "then upload."
                ),
                "failed": _("The key pair could not be made in this browser."),
            },
        },
        status=422 if refusal or any(f.errors for f in bound) else 200,
    )


@municipality_required
@login_required
@require_GET
def trustee_page(request: HttpRequest, election_id: int) -> HttpResponse:
    found = _trustee_or_refusal(request, election_id)
    if isinstance(found, HttpResponse):
        return found
    return _page(request, *found)


def _upload(
    request: HttpRequest,
    election_id: int,
    *,
    slot: Literal["key", "factors"],
    store: Callable[[User, Municipality, int, Any], object],
    success: str,
) -> HttpResponseBase:
    """Both trustee uploads (public key, decryption factors): check the JSON file or paste, let
    the service verify its proofs, and on refusal show the page again with the reason (nothing
    changed)."""
    found = _trustee_or_refusal(request, election_id)
    if isinstance(found, HttpResponse):
        return found
    election, trustee = found
    form = JsonUploadForm(request.POST, request.FILES, prefix=slot)

    def again(refusal: str | None = None) -> HttpResponse:
        return _page(
            request,
            election,
            trustee,
            key_form=form if slot == "key" else None,
            factors_form=form if slot == "factors" else None,
            refusal=refusal,
        )

    if form.is_valid():
        try:
            store(
                current_user(request),
                current_municipality(request),
                election.pk,
                form.cleaned_data["json"],
            )
        except DomainError as error:
            return again(str(error.message))
        messages.success(request, success)
        return redirect("voting:trustee", election_id=election.pk)
    return again()


@municipality_required
@login_required
@require_POST
def trustee_key(request: HttpRequest, election_id: int) -> HttpResponseBase:
    return _upload(
        request,
        election_id,
        slot="key",
        store=lambda actor, municipality, pk, upload: services.trustee_key_upload(
            actor=actor, municipality=municipality, election_id=pk, upload=upload
        ),
        success=_("Your public key was accepted: its proof checks out. Keep your key file safe."),
    )


@municipality_required
@login_required
@require_GET
def trustee_tally(request: HttpRequest, election_id: int) -> HttpResponseBase:
    found = _trustee_or_refusal(request, election_id)
    if isinstance(found, HttpResponse):
        return found
    election, trustee = found
    user: User = current_user(request)
    try:
        request_json = selectors.trustee_tally_request(user, election)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("voting:trustee", election_id=election.pk)
    body = json.dumps(request_json, indent=2, ensure_ascii=False) + "\n"
    response = HttpResponse(body.encode(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="tally-{election.pk}-{trustee.tid}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@municipality_required
@login_required
@require_POST
def trustee_factors(request: HttpRequest, election_id: int) -> HttpResponseBase:
    return _upload(
        request,
        election_id,
        slot="factors",
        store=lambda actor, municipality, pk, upload: services.decryption_upload(
            actor=actor, municipality=municipality, election_id=pk, factors_json=upload
        ),
        success=_("Your decryption was accepted: every proof checks out. Thank you."),
    )
