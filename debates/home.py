"""The debates card of the municipality home page (identity.home_cards)."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from debates import phases
from debates.models import Phase
from identity.home_cards import ITEMS_SHOWN, HomeCard, OpenItem, register
from identity.models import Municipality

# A debate is open to take part in while one of these phases runs (the conclusion is read-only).
OPEN_KINDS = (phases.DIVERGE.key, phases.CONVERGE.key)


def debates_card(municipality: Municipality, now: datetime) -> HomeCard:
    running = (
        Phase.objects.filter(
            debate__municipality=municipality,
            kind__in=OPEN_KINDS,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .select_related("debate")
        .order_by("ends_at", "id")
    )
    count = running.count()
    return HomeCard(
        key="debates",
        title=_("Debates"),
        url=reverse("debates:list"),
        description=_(
            "Share ideas on a question, find common ground with your neighbours, and read "
            "the conclusion."
        ),
        open_label=ngettext(
            "%(count)s debate is open for taking part now.",
            "%(count)s debates are open for taking part now.",
            count,
        )
        % {"count": count}
        if count
        else _("No debate is open for taking part right now."),
        items=[
            OpenItem(
                phase.debate.question,
                reverse("debates:detail", args=[phase.debate_id]),
                phase.ends_at,
            )
            for phase in running[:ITEMS_SHOWN]
        ],
    )


register(20, debates_card)
