"""The elections card of the municipality home page (identity.home_cards)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.home_cards import ITEMS_SHOWN, HomeCard, OpenItem, register
from identity.models import Municipality
from voting.models import Election, Status


def elections_card(municipality: Municipality, now: datetime) -> HomeCard:
    # Open = frozen and within its voting period (Election.phase()), as one query.
    voting = Election.objects.filter(
        municipality=municipality, status=Status.FROZEN, opens_at__lte=now, closes_at__gt=now
    ).order_by("closes_at", "id")
    count = voting.count()
    return HomeCard(
        key="elections",
        title=_("Elections"),
        url=reverse("voting:list"),
        description=_(
            "Vote online in referendums; anyone can check the published results and the record."
        ),
        open_label=ngettext(
            "Voting is open in %(count)s election now.",
            "Voting is open in %(count)s elections now.",
            count,
        )
        % {"count": count}
        if count
        else _("No election is open for voting right now."),
        items=[
            OpenItem(e.title, reverse("voting:detail", args=[e.pk]), e.closes_at)
            for e in voting.only("id", "title", "closes_at")[:ITEMS_SHOWN]
        ],
    )


register(30, elections_card)
