"""The converge and conclude parts of the debate page, votes and proposed statements, and the
opinion-groups report (an SVG map with a text alternative). Thin: forms validate, services write;
the opinion groups are read from the latest snapshot the Celery task stored, never computed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from debates import permissions, phases, selectors, services
from debates.forms import StatementForm, VoteForm
from debates.models import (
    Debate,
    Statement,
    VoteValue,
)
from debates.views import debate_or_404
from identity.decorators import current_user, municipality_required
from identity.errors import DomainError
from identity.form_submit import form_submit
from identity.models import User
from proposals.rendering import render_markdown

# How many statements the converge page offers at a time.
STATEMENTS_AT_A_TIME = 3
VOTE_VALUES = {"agree": VoteValue.AGREE, "disagree": VoteValue.DISAGREE, "pass": VoteValue.PASS}
VOTE_NAMES = {int(value): name for name, value in VOTE_VALUES.items()}


def converge_context(request: HttpRequest, debate: Debate, now: datetime) -> dict[str, Any]:
    user = request.user if isinstance(request.user, User) else None
    votes = selectors.user_votes(debate, user)
    published = list(selectors.statements_published(debate).order_by("created_at", "pk"))
    # The serving rule (unseen first, then the most informative) is the selector's; see
    # docs/decisions.md "Which statement comes next".
    served = selectors.next_statements(debate, user, STATEMENTS_AT_A_TIME)
    vote_decision = permissions.can_take_part(request.user, debate, phases.VOTE, now)
    voted = [s for s in published if s.pk in votes]
    for statement in voted:
        statement.my_vote = VOTE_NAMES[votes[statement.pk]]  # type: ignore[attr-defined]
    my_pending: list[Statement] = []
    if user is not None:
        my_pending = selectors.statements_pending_of(debate, user)
    return {
        "converge": True,
        "served": served,
        "voted": voted,
        "voted_count": len(voted),
        "statement_total": len(published),
        "vote_decision": vote_decision,
        "statement_form": StatementForm(),
        "my_statements": my_pending,
    }


def conclude_context(detail: selectors.DebateDetail) -> dict[str, Any]:
    conclusion = detail.conclusion
    return {
        "conclude": True,
        "conclusion": conclusion,
        "summary": render_markdown(conclusion.summary) if conclusion else "",
        "snapshot": detail.snapshot,
    }


@municipality_required
@login_required
@require_POST
def vote(request: HttpRequest, debate_id: int, statement_id: int) -> HttpResponseBase:
    debate = debate_or_404(request, debate_id)
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose agree, disagree or pass."))
        return redirect("debates:detail", debate_id=debate.pk)
    statement = selectors.statement_in(debate, statement_id)
    if statement is None:
        messages.error(request, _("No such statement."))
        return redirect("debates:detail", debate_id=debate.pk)
    try:
        services.vote_cast(
            actor=current_user(request),
            statement_id=statement.pk,
            value=VOTE_VALUES[form.cleaned_data["choice"]],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Your vote was saved. You can change it at any time."))
    return redirect(reverse("debates:detail", args=[debate.pk]) + "#converge-heading")


@municipality_required
@login_required
@require_POST
def statement_propose(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    debate = debate_or_404(request, debate_id)
    form = StatementForm(request.POST)
    submitted = form_submit(
        form,
        lambda data: services.statement_submit(
            actor=current_user(request), debate_id=debate.pk, text=data["text"]
        ),
    )
    if submitted is not None:
        messages.success(
            request,
            _("Thank you. A moderator will check your statement before others see it."),
        )
        return redirect(reverse("debates:detail", args=[debate.pk]) + "#propose-heading")
    from debates.views import detail_page

    return detail_page(request, debate.pk, extra={"statement_form": form}, status=422)


# The report: opinion map and lists ----------------------------------------------------------------

# Okabe–Ito colours (distinguishable with colour-blindness), then shapes in the legend and table.
GROUP_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
UNGROUPED_COLOUR = "#767676"
MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 480, 320, 24


@dataclass
class MapPoint:
    x: float
    y: float
    group: int
    colour: str


@dataclass
class MapGroup:
    number: int
    label: str
    size: int
    colour: str
    cx: float
    cy: float
    representative: list[dict[str, Any]]


def _colour(group: int) -> str:
    return UNGROUPED_COLOUR if group < 0 else GROUP_COLOURS[group % len(GROUP_COLOURS)]


def opinion_map(report: selectors.OpinionReport) -> tuple[list[MapPoint], list[MapGroup]]:
    """Scale the snapshot's 2-D points into the SVG box and work out each group's centroid."""
    raw = [(float(p[1]), float(p[2]), int(p[3])) for p in report.points]
    if raw:
        xs, ys = [p[0] for p in raw], [p[1] for p in raw]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    else:
        x0 = x1 = y0 = y1 = 0.0
    span_x, span_y = (x1 - x0) or 1.0, (y1 - y0) or 1.0

    def sx(x: float) -> float:
        return round(MAP_PAD + (x - x0) / span_x * (MAP_WIDTH - 2 * MAP_PAD), 1)

    def sy(y: float) -> float:
        return round(MAP_HEIGHT - MAP_PAD - (y - y0) / span_y * (MAP_HEIGHT - 2 * MAP_PAD), 1)

    points = [MapPoint(sx(x), sy(y), g, _colour(g)) for x, y, g in raw]
    groups: list[MapGroup] = []
    for entry in report.groups:
        members = [p for p in points if p.group == entry.group]
        cx = round(sum(p.x for p in members) / len(members), 1) if members else MAP_WIDTH / 2
        cy = round(sum(p.y for p in members) / len(members), 1) if members else MAP_HEIGHT / 2
        groups.append(
            MapGroup(
                number=entry.group,
                label=chr(ord("A") + entry.group) if entry.group < 26 else str(entry.group + 1),
                size=entry.size,
                colour=_colour(entry.group),
                cx=cx,
                cy=cy,
                representative=[
                    {
                        **info,
                        "text": statement.text,
                        "percent": round(100 * float(info.get("rate_in_group", 0))),
                    }
                    for statement, info in entry.representative
                ],
            )
        )
    return points, groups


@municipality_required
@require_GET
def opinion_report(request: HttpRequest, debate_id: int) -> HttpResponse:
    debate = debate_or_404(request, debate_id)
    report = selectors.opinion_report(debate)
    context: dict[str, Any] = {
        "debate": debate,
        "report": report,
        "snapshot": report.snapshot if report else None,
        "statements": list(selectors.statements_published(debate).order_by("created_at", "pk")),
        "socket_path": f"/ws/debates/{debate.pk}/",
        "map_width": MAP_WIDTH,
        "map_height": MAP_HEIGHT,
        "csv_links": True,
    }
    if report is not None:
        points, groups = opinion_map(report)
        context.update(
            {
                "points": points,
                "groups": groups,
                "ungrouped": sum(1 for p in points if p.group < 0),
                "consensus": report.consensus,
                "majority": report.majority,
                "divisive": report.divisive,
                "parameters": sorted((report.snapshot.parameters or {}).items()),
            }
        )
    return render(request, "debates/report.html", context)
