"""The legal calendar of a direct demand (Local Autonomy Act art. 74, 74-2 and its order), in one
place: every service that enforces a deadline and every page that shows one asks here, so they
cannot disagree. Days are calendar days in Japan; periods are counted as the Civil Code counts
them (art. 140: the first day is not counted when the period starts during it; art. 143: a period
of months ends on the day before the corresponding day, or on the month's last day when there is
no corresponding day)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext_lazy as _

from identity.eligibility import TOKYO
from identity.models import Municipality, MunicipalityKind
from proposals.models import CollectionBlackout, Proposal

# The election office checks the sheets within 20 days of receiving them (art. 74-2 (1)).
CHECK_DAYS = 20
# Prefectures and designated cities collect for two months, other municipalities for one
# (Order art. 92 (3)).
TWO_MONTH_KINDS = (MunicipalityKind.PREFECTURE, MunicipalityKind.DESIGNATED_CITY)


def tokyo_day(at: datetime) -> date:
    return at.astimezone(TOKYO).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Japan: the moment a period that ends the day before
    closes."""
    return datetime.combine(day, time.min, TOKYO)


def months_later_last_day(first_day: date, months: int) -> date:
    """The last day of a period of `months` months whose first day is `first_day` (Civil Code
    art. 143 (2))."""
    month_index = first_day.month - 1 + months
    year, month = first_day.year + month_index // 12, month_index % 12 + 1
    days_in_month = calendar.monthrange(year, month)[1]
    if first_day.day > days_in_month:  # no corresponding day: the month's last day
        return date(year, month, days_in_month)
    return date(year, month, first_day.day) - timedelta(days=1)


def collection_months(municipality: Municipality) -> int:
    return 2 if municipality.kind in TWO_MONTH_KINDS else 1


def collection_last_day_suspended(
    municipality: Municipality, first_day: date, blackouts: list[CollectionBlackout]
) -> date:
    """The last day of a collection whose first day is `first_day`, when the period does not
    run on blackout days (Order art. 92 (4)): it takes as many days outside blackouts as the
    plain period has."""
    plain_days = (
        months_later_last_day(first_day, collection_months(municipality)) - first_day
    ).days
    day, remaining = first_day, plain_days + 1
    while True:
        if not any(b.starts_on <= day <= b.ends_on for b in blackouts):
            remaining -= 1
            if remaining == 0:
                return day
        day += timedelta(days=1)


def check_due_on(received_on: date) -> date:
    """The last day of the election office's check of sheets received on `received_on`."""
    return received_on + timedelta(days=CHECK_DAYS)


def inspection_ends_at(published_at: datetime, days: int) -> datetime:
    """The end of the public inspection (縦覧) that starts when the checked count is published:
    `days` full days in Japan after the publication day, closing at midnight."""
    return start_of_day(tokyo_day(published_at) + timedelta(days=days + 1))


def blackout_on(municipality: Municipality, day: date) -> CollectionBlackout | None:
    return (
        CollectionBlackout.objects.filter(
            municipality=municipality, starts_on__lte=day, ends_on__gte=day
        )
        .order_by("starts_on", "id")
        .first()
    )


def blackout_message(blackout: CollectionBlackout) -> str:
    return str(
        _(
            "No signatures may be collected from %(start)s to %(end)s because of an election "
            "(%(reason)s)."
        )
        % {
            "start": blackout.starts_on.isoformat(),
            "end": blackout.ends_on.isoformat(),
            "reason": blackout.reason,
        }
    )


@dataclass(frozen=True)
class Deadline:
    at: datetime
    label: str


def deadlines(proposal: Proposal, now: datetime) -> list[Deadline]:
    """The legal deadlines of a direct demand that the timeline shows besides its events (the
    inspection's end is shown for every certified proposal by the timeline itself)."""
    if not proposal.type.direct_demand:
        return []
    found: list[Deadline] = []
    if proposal.collection_closes_at is not None:
        ended = proposal.collection_closes_at <= now
        found.append(
            Deadline(
                proposal.collection_closes_at,
                str(_("Signature collection ended") if ended else _("Signature collection ends")),
            )
        )
    if proposal.check_due_on is not None:
        found.append(
            Deadline(
                start_of_day(proposal.check_due_on),
                str(
                    _("Deadline of the election office's check: %(date)s")
                    % {"date": proposal.check_due_on.isoformat()}
                ),
            )
        )
    return found
