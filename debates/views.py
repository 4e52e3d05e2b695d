"""Debate pages for everyone: the list, a debate with its phase timeline and the running phase's
content, reports of content. Thin: forms validate, services write, reads stay scoped to the
municipality. Every action is a POST form, so the pages work without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from debates import permissions, phases, selectors, services
from debates.forms import (
    CommentForm,
    ContributionFilterForm,
    ContributionForm,
    ReactionForm,
    ReportForm,
)
from debates.models import Comment, Contribution, Debate, Phase
from debates.phases import PhaseKind
from identity.decorators import current_municipality, current_user, municipality_required
from identity.errors import DomainError
from identity.form_submit import form_submit
from identity.models import User
from proposals.rendering import render_markdown

CONTRIBUTIONS_PER_PAGE = 20


def _user_or_none(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


# Reads. Scoped to the request's municipality; debates are public to read. ---------------------


def debate_or_404(request: HttpRequest, debate_id: int) -> Debate:
    debate = selectors.debate_in(current_municipality(request), debate_id)
    if debate is None:
        raise Http404("No such debate")
    return debate


@dataclass
class Timeline:
    phases: list[Phase]
    current: Phase | None
    at: datetime
    upcoming: Phase | None = None
    ended: bool = False

    @property
    def kind(self) -> str:
        return self.current.kind if self.current else ""

    @property
    def info(self) -> PhaseKind | None:
        return phases.REGISTRY.get(self.kind)


def timeline_of(debate: Debate, at: datetime, rows: list[Phase] | None = None) -> Timeline:
    """All phases (one query unless given) and which one runs at `at` (start inclusive, end
    exclusive)."""
    if rows is None:
        rows = selectors.phases_of(debate)
    current = selectors.phase_running(rows, at)
    upcoming = next((p for p in rows if p.starts_at > at), None)
    ended = bool(rows) and rows[-1].ends_at <= at
    return Timeline(rows, current, at, upcoming, ended)


def _shuffle_seed(request: HttpRequest, debate: Debate) -> str:
    """Random but stable per person, so early posts do not always come first."""
    user = _user_or_none(request)
    return f"user:{user.pk}" if user is not None else "anonymous"


@dataclass
class ContributionPage:
    page: Page[Any]
    contributions: list[Contribution]
    comments: dict[int, list[Comment]] = field(default_factory=dict)
    mine: set[int] = field(default_factory=set)


def contribution_page(
    request: HttpRequest, debate: Debate, sort: str, category: str, number: str | None
) -> ContributionPage:
    """One page of contributions in the asked order, with their comment threads (two levels) and
    which ones the visitor found helpful: four queries whatever the page size."""
    queryset = selectors.contributions_public(
        debate, sort=sort, seed=_shuffle_seed(request, debate)
    )
    if category:
        queryset = queryset.filter(category=category)
    page = Paginator(queryset, CONTRIBUTIONS_PER_PAGE).get_page(number)
    contributions = list(page.object_list)
    result = ContributionPage(page, contributions)
    ids = [c.pk for c in contributions]
    if not ids:
        return result
    threads: dict[int, list[Comment]] = {pk: [] for pk in ids}
    replies: dict[int, list[Comment]] = {}
    for comment in selectors.comments_of_contributions(ids):
        if comment.parent_id is None:
            threads[comment.contribution_id].append(comment)
        else:
            replies.setdefault(comment.parent_id, []).append(comment)
    for thread in threads.values():
        for comment in thread:
            comment.thread_replies = replies.get(comment.pk, [])  # type: ignore[attr-defined]
    result.comments = threads
    user = _user_or_none(request)
    if user is not None:
        result.mine = selectors.reacted_contributions(user, ids)
    for contribution in contributions:
        contribution.thread = threads[contribution.pk]  # type: ignore[attr-defined]
        contribution.helped_me = contribution.pk in result.mine  # type: ignore[attr-defined]
    return result


# Pages ------------------------------------------------------------------------------------------


@municipality_required
@require_GET
def debate_list(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    now = timezone.now()
    page = Paginator(selectors.debates_public(municipality), 20).get_page(request.GET.get("page"))
    items = list(page.object_list)
    for debate in items:
        rows = list(debate.phases.all())
        debate.running_phase = selectors.phase_running(rows, now)  # type: ignore[attr-defined]
        debate.date_range = (  # type: ignore[attr-defined]
            (rows[0].starts_at, rows[-1].ends_at) if rows else None
        )
    can_create = permissions.can_create_debate(request.user, municipality)
    return render(
        request,
        "debates/list.html",
        {"page": page, "debates": items, "now": now, "can_create": bool(can_create)},
    )


def _filters(request: HttpRequest, debate: Debate) -> tuple[ContributionFilterForm, str, str]:
    # Its own id prefix: the post form on the same page has a `category` field too.
    form = ContributionFilterForm(
        request.GET or None,
        categories=selectors.contribution_categories(debate),
        auto_id="filter_%s",
    )
    sort, category = "new", ""
    if form.is_bound and form.is_valid():
        sort = form.cleaned_data["sort"] or "new"
        category = form.cleaned_data["category"] or ""
    return form, sort, category


def detail_page(
    request: HttpRequest,
    debate_id: int,
    *,
    contribution_form: ContributionForm | None = None,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The debate page: question, background, timeline and the running phase's content."""
    from debates import views_converge

    now = timezone.now()
    try:
        detail = selectors.debate_detail(current_municipality(request), debate_id, now)
    except DomainError as error:
        raise Http404("No such debate") from error
    debate = detail.debate
    timeline = timeline_of(debate, now, detail.phases)
    user = _user_or_none(request)
    moderator = bool(permissions.can_moderate(request.user, debate)) if user else False
    context: dict[str, Any] = {
        "debate": debate,
        "background": render_markdown(debate.background),
        "timeline": timeline,
        "phase": timeline.current,
        "is_moderator": moderator,
        "socket_path": f"/ws/debates/{debate.pk}/",
    }
    show_contributions = timeline.kind == phases.DIVERGE.key or request.GET.get("show") == "ideas"
    if show_contributions:
        filter_form, sort, category = _filters(request, debate)
        listing = contribution_page(request, debate, sort, category, request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        decision = None
        if timeline.kind == phases.DIVERGE.key:
            decision = permissions.can_take_part(request.user, debate, phases.CONTRIBUTE, now)
        context.update(
            {
                "show_contributions": True,
                "filter_form": filter_form,
                "sort": sort,
                "listing": listing,
                "query": query.urlencode(),
                "decision": decision,
                "contribution_form": contribution_form or ContributionForm(),
            }
        )
    if timeline.kind == phases.CONVERGE.key:
        context.update(views_converge.converge_context(request, debate, now))
    if timeline.kind == phases.CONCLUDE.key or timeline.ended:
        context.update(views_converge.conclude_context(detail))
    if extra:
        context.update(extra)
    return render(request, "debates/detail.html", context, status=status)


@municipality_required
@require_GET
def debate_detail(request: HttpRequest, debate_id: int) -> HttpResponse:
    return detail_page(request, debate_id)


def _back(debate: Debate, anchor: str = "") -> HttpResponseBase:
    url = reverse("debates:detail", args=[debate.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _contribution_or_404(debate: Debate, contribution_id: int) -> Contribution:
    contribution = selectors.contribution_in(debate, contribution_id)
    if contribution is None:
        raise Http404("No such contribution")
    return contribution


@municipality_required
@login_required
@require_POST
def contribution_add(request: HttpRequest, debate_id: int) -> HttpResponseBase:
    debate = debate_or_404(request, debate_id)
    form = ContributionForm(request.POST)
    posted = form_submit(
        form,
        lambda data: services.contribution_add(
            actor=current_user(request),
            debate_id=debate.pk,
            title=data["title"],
            body=data["body"],
            category=data["category"],
        ),
    )
    if posted is not None:
        messages.success(request, _("Thank you — your contribution was posted."))
        return _back(debate, f"contribution-{posted.value.pk}")
    return detail_page(request, debate.pk, contribution_form=form, status=422)


@municipality_required
@login_required
@require_POST
def comment_add(request: HttpRequest, debate_id: int, contribution_id: int) -> HttpResponseBase:
    debate = debate_or_404(request, debate_id)
    contribution = _contribution_or_404(debate, contribution_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your comment (at most 4,000 characters)."))
        return _back(debate, f"contribution-{contribution.pk}")
    try:
        comment = services.comment_add(
            actor=current_user(request),
            contribution_id=contribution.pk,
            body=form.cleaned_data["body"],
            parent_id=form.cleaned_data["parent"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return _back(debate, f"contribution-{contribution.pk}")
    messages.success(request, _("Your comment was posted."))
    return _back(debate, f"comment-{comment.pk}")


@municipality_required
@login_required
@require_POST
def reaction_toggle(request: HttpRequest, debate_id: int, contribution_id: int) -> HttpResponseBase:
    debate = debate_or_404(request, debate_id)
    contribution = _contribution_or_404(debate, contribution_id)
    form = ReactionForm(request.POST)
    on = form.is_valid() and form.cleaned_data["on"]
    try:
        services.reaction_toggle(
            actor=current_user(request), contribution_id=contribution.pk, on=on
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Marked: this helped you think.") if on else _("Your mark was taken back."),
        )
    return _back(debate, f"contribution-{contribution.pk}")


def _report_target(
    debate: Debate, contribution_id: int | None, comment_id: int | None
) -> Contribution | Comment:
    if comment_id is not None:
        comment = selectors.comment_in(debate, comment_id)
        if comment is None:
            raise Http404("No such comment")
        return comment
    assert contribution_id is not None
    return _contribution_or_404(debate, contribution_id)


@municipality_required
@login_required
@require_http_methods(["GET", "POST"])
def report_file(
    request: HttpRequest,
    debate_id: int,
    contribution_id: int | None = None,
    comment_id: int | None = None,
) -> HttpResponse:
    """Report a contribution or a comment to the moderators (a page of its own, no JS needed)."""
    debate = debate_or_404(request, debate_id)
    target = _report_target(debate, contribution_id, comment_id)
    form = ReportForm(request.POST or None)
    filed = form_submit(
        form,
        lambda data: services.report_file(
            actor=current_user(request), target=target, reason=data["reason"]
        ),
    )
    if filed is not None:
        messages.success(request, _("Thank you. A moderator will look at your report."))
        anchor = (
            f"comment-{target.pk}" if isinstance(target, Comment) else f"contribution-{target.pk}"
        )
        return _back(debate, anchor)  # type: ignore[return-value]
    return render(
        request,
        "debates/report_form.html",
        {
            "debate": debate,
            "target": target,
            "is_comment": isinstance(target, Comment),
            "form": form,
        },
        status=422 if form.errors else 200,
    )
