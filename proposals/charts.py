"""The signature chart: pygal draws it on the server as an SVG document, so it needs no JavaScript.

The proposal page shows it as an image (`<picture>`, a narrow drawing for phones and a wide one
for larger screens) with a text description beside it, and the daily table below it stays the
full text alternative. It is served as its own document rather than inlined, because pygal puts a
`<style>` (and a config `<script>`) in every SVG and the pages' CSP allows no inline style; the
SVG response gets its own CSP (see `proposals.views.signature_chart`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import pygal
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from pygal.style import Style

Size = Literal["narrow", "wide"]


@dataclass(frozen=True)
class ChartData:
    daily: list[tuple[date, int, int]]  # (day in Japan, signatures that day, running total)
    threshold: int | None
    last_signing_day: date | None  # the collection deadline, in Japan


# Dark enough on white for WCAG 1.4.11 (graphics 3:1); the goal and deadline also differ by dash,
# not only by colour.
TOTAL_COLOUR, GOAL_COLOUR, DEADLINE_COLOUR = "#1a5e20", "#a33a00", "#4a4a4a"
FONT = '"Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif'

# (width, height, axis font, label font): drawn at the size it is shown, so the text is readable
# at 360 px without being scaled down.
SIZES: dict[Size, tuple[int, int, int, int]] = {
    "narrow": (340, 300, 12, 13),
    "wide": (760, 360, 13, 14),
}


# pygal's own stylesheet draws every line 1 px wide and the grid in dashed black, which would hide
# the goal and deadline among the guides.
CSS = (
    ".series .line{stroke-width:3;stroke-opacity:1}"
    ".serie-1 .line,.serie-2 .line{stroke-width:2}"
    ".axis .guide.line,.axis .major.guide.line{stroke:#d9d9d9;stroke-dasharray:none}"
    ".text-overlay text.label{font-weight:bold}"
    f".text-overlay .color-1 text{{fill:{GOAL_COLOUR}}}"
    f".text-overlay .color-2 text{{fill:{DEADLINE_COLOUR}}}"
)


def _day_label(day: date) -> str:
    return f"{day.month}/{day.day}"


def chart_svg(data: ChartData, size: Size) -> str:
    """The chart as a standalone SVG document: dated time axis, count axis from zero, the running
    total, the goal line (labelled) and the collection deadline (labelled)."""
    width, height, axis_font, label_font = SIZES[size]
    style = Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f1f1f",
        foreground_strong="#1f1f1f",
        foreground_subtle="#767676",
        font_family=FONT,
        label_font_family=FONT,
        major_label_font_family=FONT,
        legend_font_family=FONT,
        value_font_family=FONT,
        value_label_font_family=FONT,
        title_font_family=FONT,
        label_font_size=axis_font,
        major_label_font_size=axis_font,
        legend_font_size=label_font,
        title_font_size=label_font,
        value_label_font_size=label_font,
        colors=(TOTAL_COLOUR, GOAL_COLOUR, DEADLINE_COLOUR),
    )
    days = [day for day, _count, _total in data.daily]
    top = max([data.threshold or 0, *(total for _d, _c, total in data.daily), 1])
    ends = [d for d in (days[-1] if days else None, data.last_signing_day) if d is not None]
    first = days[0] if days else data.last_signing_day
    last = max(ends) if ends else None
    chart = pygal.DateLine(
        style=style,
        width=width,
        height=height,
        js=[],
        css=["file://style.css", "file://graph.css", f"inline:{CSS}"],
        disable_xml_declaration=True,
        explicit_size=True,
        no_prefix=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        truncate_legend=-1,
        include_x_axis=True,
        range=(0, max(top + top // 10, top + 1)),
        min_scale=3,
        max_scale=6 if size == "narrow" else 8,
        x_label_rotation=0,
        x_value_formatter=_day_label,
        value_formatter=lambda value: f"{value:,.0f}",
        x_title=_("Date, %(years)s (Japan time)") % {"years": _years(first, last)},
        y_title=_("Number of signatures"),
        print_labels=True,
        show_x_guides=False,
        dots_size=3,
        margin=12,
        margin_right=24,
        spacing=8,
    )
    chart.x_labels = _x_labels(first, last, size) if first and last else []
    chart.add(
        _("Signatures so far"),
        [(day, total) for day, _count, total in data.daily],
        stroke_style={"width": 3},
    )
    if data.threshold and first and last:
        goal = _("Goal: %(count)s") % {"count": f"{data.threshold:,}"}
        # The label is printed under a (hidden) dot a quarter of the way along: clear of the count
        # axis, and where a running total is usually still well below the goal.
        at = first.fromordinal(first.toordinal() + (last - first).days // 4)
        chart.add(
            goal,
            [
                (first, data.threshold),
                {"value": (at, data.threshold), "label": goal},
                (last, data.threshold),
            ],
            dots_size=0.01,
            stroke_style={"width": 2, "dasharray": "8,4"},
        )
    if data.last_signing_day is not None:
        deadline = _("Collection closes: %(date)s") % {
            "date": date_format(data.last_signing_day, "Y-m-d")
        }
        chart.add(
            deadline,
            [(data.last_signing_day, 0), (data.last_signing_day, top)],
            show_dots=False,
            stroke_style={"width": 2, "dasharray": "3,3"},
        )
    return str(chart.render(is_unicode=True))


def _years(first: date | None, last: date | None) -> str:
    if first is None or last is None:
        return str(first.year if first else last.year if last else "")
    return str(last.year) if first.year == last.year else f"{first.year}–{last.year}"


def _x_labels(first: date, last: date, size: Size) -> list[date]:
    """A handful of dated ticks from the first day to the last, both ends included, so a one-day
    history still has a time axis with dates on it."""
    span = (last - first).days
    most = 4 if size == "narrow" else 8
    if span == 0:
        return [first]
    step = max(1, -(-span // (most - 1)))
    ticks = [first.fromordinal(first.toordinal() + offset) for offset in range(0, span, step)]
    if (last - ticks[-1]).days * 2 < step and len(ticks) > 1:
        ticks.pop()  # too close to the last tick to be read apart
    return [*ticks, last]


def chart_description(data: ChartData) -> str:
    """What the chart shows, in words, for screen readers and for anyone who cannot see it."""
    parts = []
    if data.daily:
        first_day, _count, _total = data.daily[0]
        last_day, _count, total = data.daily[-1]
        parts.append(
            ngettext(
                "From %(first)s to %(last)s, %(total)s signature was collected.",
                "From %(first)s to %(last)s, %(total)s signatures were collected.",
                total,
            )
            % {
                "first": date_format(first_day, "Y-m-d"),
                "last": date_format(last_day, "Y-m-d"),
                "total": f"{total:,}",
            }
        )
    if data.threshold:
        parts.append(_("The goal is %(count)s.") % {"count": f"{data.threshold:,}"})
    if data.last_signing_day is not None:
        parts.append(
            _("Collection closes on %(date)s.")
            % {"date": date_format(data.last_signing_day, "Y-m-d")}
        )
    # Japanese runs sentences together; English separates them with a space.
    return ("" if (get_language() or "").startswith("ja") else " ").join(parts)
