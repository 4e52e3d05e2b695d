"""What proposals/ adds to My account (identity.account_sections): pending invitations to
promoters' committees, each with accept and decline buttons that work without JavaScript."""

from __future__ import annotations

from django.http import HttpRequest

from identity.account_sections import AccountSection
from identity.models import User
from proposals import selectors


def committee_invitations(request: HttpRequest, user: User) -> AccountSection | None:
    invitations = selectors.committee_invitations_pending(user)
    if not invitations:
        return None
    here = request.get_host()
    return AccountSection(
        "proposals/partials/account_invitations.html",
        {
            "invitations": [
                # A form posts to the municipality's own pages; one on another host name has its
                # own session and CSRF cookie, so there the proposal's page is linked instead.
                (m, not m.proposal.municipality.host or m.proposal.municipality.host == here)
                for m in invitations
            ],
            "next": request.get_full_path(),
        },
    )
