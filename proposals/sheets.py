"""Printable signature sheets (署名簿) of a direct demand, in the layout the Local Autonomy Act's
order prescribes: the demand's summary, the representative, the collector, the collection period,
numbered rows (date of signing, address, date of birth, name, seal) and the legal notices. HTML and
CSS rendered by WeasyPrint, which embeds the subset of the Japanese font the sheet uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone, translation

from identity.eligibility import eligibility
from identity.selectors import PersonRecord, people_of_verifications
from proposals import legal_calendar, permissions
from proposals.models import Collector, Proposal

ROWS_PER_SHEET = 10
MAX_SHEETS = 50
_STYLESHEET = Path(__file__).with_name("sheets.css")


@dataclass(frozen=True)
class SheetPage:
    number: str
    rows: range


def sheet_number(collector: Collector, index: int) -> str:
    """What the clerk types as the sheet: the collector's number, then the sheet's own."""
    return f"{collector.number}-{index}"


def _representative(proposal: Proposal) -> PersonRecord | None:
    """The representative's name and address as verified (a direct demand's representative is an
    eligible resident: filing required it)."""
    decision = eligibility(
        proposal.author,
        proposal.municipality,
        timezone.now(),
        permissions.signer_rule(proposal.type),
    )
    if decision.verification_id is None:
        return None
    return people_of_verifications([decision.verification_id]).get(decision.verification_id)


def _period(proposal: Proposal) -> tuple[date | None, date | None, int]:
    first = (
        legal_calendar.tokyo_day(proposal.collection_opens_at)
        if proposal.collection_opens_at
        else None
    )
    return (
        first,
        proposal.last_signing_day(),
        legal_calendar.collection_months(proposal.municipality),
    )


def render_sheets(proposal: Proposal, collector: Collector, sheets: int) -> bytes:
    """`sheets` sheets for one collector, numbered `<collector>-1` onwards, as one PDF. Printed in
    Japanese whatever the page language: the sheet is a legal form."""
    first, last, months = _period(proposal)
    pages = [
        SheetPage(sheet_number(collector, index), range(1, ROWS_PER_SHEET + 1))
        for index in range(1, sheets + 1)
    ]
    with translation.override("ja"):
        html = render_to_string(
            "proposals/sheets/sheet.html",
            {
                "proposal": proposal,
                "municipality": proposal.municipality,
                "collector": collector,
                "representative": _representative(proposal),
                "first_day": first,
                "last_day": last,
                "months": months,
                "pages": pages,
            },
        )
    # Imported here: WeasyPrint and its font stack take a while to load, and only this rare
    # download needs them, not every process that loads the URLconf.
    from weasyprint import CSS, HTML

    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(_STYLESHEET))]) or b""
