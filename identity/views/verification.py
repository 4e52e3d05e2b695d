"""The resident's own "My verification" page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from identity import selectors
from identity.decorators import current_user
from identity.eligibility import offers_oidc
from identity.models import Municipality
from identity.verification_status import verification_status


@login_required
@require_GET
def my_verification(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    municipality: Municipality | None = getattr(request, "municipality", None)
    oidc_offered = False
    if municipality is not None:
        statuses = [verification_status(user, municipality)]
        others: list[Municipality] = []
        oidc_offered = offers_oidc(municipality)
    else:
        # On the site root there is no municipality: show each one the person has a history in,
        # and link to all of them so a first verification can start.
        statuses = [
            verification_status(user, m) for m in selectors.municipalities_with_history(user)
        ]
        others = list(selectors.municipalities_public())
    return render(
        request,
        "identity/verification/mine.html",
        {
            "statuses": statuses,
            "other_municipalities": others,
            "now": timezone.now(),
            # The municipal ID is offered only where the municipality has an identity provider.
            "oidc_offered": oidc_offered,
        },
    )
