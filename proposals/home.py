"""The proposals card of the municipality home page (identity.home_cards)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.home_cards import ITEMS_SHOWN, HomeCard, OpenItem, register
from identity.models import Municipality
from proposals.models import SIGNABLE, Proposal


def proposals_card(municipality: Municipality, now: datetime) -> HomeCard:
    collecting = Proposal.objects.filter(
        municipality=municipality, status__in=SIGNABLE, collection_closes_at__gt=now
    ).order_by("collection_closes_at", "id")
    count = collecting.count()
    return HomeCard(
        key="proposals",
        title=_("Proposals"),
        url=reverse("proposals:list"),
        description=_("Read and sign residents' policy proposals, or write your own."),
        open_label=ngettext(
            "%(count)s proposal is collecting signatures now.",
            "%(count)s proposals are collecting signatures now.",
            count,
        )
        % {"count": count}
        if count
        else _("No proposal is collecting signatures right now."),
        items=[
            OpenItem(p.title, reverse("proposals:detail", args=[p.pk]), p.collection_closes_at)
            for p in collecting.only("id", "title", "collection_closes_at")[:ITEMS_SHOWN]
        ],
    )


register(10, proposals_card)
