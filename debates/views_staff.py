"""Moderator pages of a debate: create it and set its phases, advance the phase, the moderation
queue (reports, hiding with a reason), pending statements, merging similar contributions into
statements, and the conclusion. Every page is guarded by `permissions.can_moderate` (a moderator
of the debate, or the municipality's moderator role with two-step verification); the services
check again. Thin: forms validate, services write."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from debates import permissions, selectors, services
from debates.forms import (
    DebateForm,
    MergeForm,
    PhaseFormSet,
    ProposalDraftForm,
    ReasonForm,
    StatementForm,
    SummaryForm,
)
from debates.models import (
    Comment,
    Contribution,
    Debate,
    Statement,
    StatementStatus,
)
from debates.services.setup import phases_check
from debates.views import debate_or_404, timeline_of
from identity.decorators import (
    current_municipality,
    current_user,
    municipality_required,
    refusal_response,
    staff_view,
)
from identity.errors import DomainError
from identity.form_submit import form_submit

ModeratorView = Callable[..., HttpResponseBase]


def moderator_view(view: ModeratorView) -> ModeratorView:
    """Load the debate (404 outside the municipality) and refuse anyone who may not moderate it,
    saying why (sign in, set up two-step verification, or not a moderator)."""

    @municipality_required
    @wraps(view)
    def wrapped(request: HttpRequest, debate_id: int, **kwargs: Any) -> HttpResponseBase:
        debate = debate_or_404(request, debate_id)
        decision = permissions.can_moderate(request.user, debate)
        if not decision:
            return refusal_response(request, decision)  # type: ignore[arg-type]
        return view(request, debate, **kwargs)

    return wrapped


def _status(*forms: Any) -> int:
    return 422 if any(f is not None and f.is_bound and f.errors for f in forms) else 200


def _home(debate: Debate) -> HttpResponseBase:
    return redirect("debates:staff_home", debate_id=debate.pk)


def _phase_specs(formset: Any) -> list[services.PhaseSpec]:
    rows = sorted(formset.filled(), key=lambda row: row["starts_at"])
    return [services.PhaseSpec(row["kind"], row["starts_at"], row["ends_at"]) for row in rows]


def _phase_initial(debate: Debate | None) -> list[dict[str, Any]]:
    if debate is None:
        return [{"kind": kind} for kind in ("diverge", "converge", "conclude")]
    return [
        {"kind": p.kind, "starts_at": p.starts_at, "ends_at": p.ends_at}
        for p in selectors.phases_of(debate)
    ]


# Creating a debate and its phases ----------------------------------------------------------------


@staff_view(permissions.can_create_debate)
@require_http_methods(["GET", "POST"])
def debate_new(request: HttpRequest) -> HttpResponse:
    form = DebateForm(request.POST or None)
    formset = PhaseFormSet(request.POST or None, initial=_phase_initial(None), prefix="phases")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        specs = _phase_specs(formset)
        try:
            # Check the phases before creating anything, so a refused form changes nothing.
            phases_check(specs)
        except DomainError as error:
            formset.non_form_errors().append(str(error.message))
        else:
            try:
                debate = services.debate_create(
                    actor=current_user(request),
                    municipality=current_municipality(request),
                    draft=services.DebateDraft(
                        question=data["question"],
                        background=data["background"],
                        min_age=data["min_age"],
                        residence_required=data["residence_required"],
                        proposal_id=data["proposal_id"],
                    ),
                )
                services.phases_set(actor=current_user(request), debate_id=debate.pk, phases=specs)
            except DomainError as error:
                form.add_error(None, str(error.message))
            else:
                messages.success(request, _("The debate was created with its phases."))
                return redirect("debates:detail", debate_id=debate.pk)
    return render(
        request,
        "debates/staff/debate_form.html",
        {"form": form, "formset": formset},
        status=422 if request.method == "POST" else 200,
    )


@moderator_view
@require_http_methods(["GET", "POST"])
def phases_edit(request: HttpRequest, debate: Debate) -> HttpResponseBase:
    formset = PhaseFormSet(request.POST or None, initial=_phase_initial(debate), prefix="phases")
    if request.method == "POST" and formset.is_valid():
        try:
            services.phases_set(
                actor=current_user(request), debate_id=debate.pk, phases=_phase_specs(formset)
            )
        except DomainError as error:
            formset.non_form_errors().append(str(error.message))
        else:
            messages.success(request, _("The phases were saved."))
            return _home(debate)
    return render(
        request,
        "debates/staff/phases_form.html",
        {"debate": debate, "formset": formset},
        status=422 if request.method == "POST" else 200,
    )


@moderator_view
@require_POST
def phase_advance(request: HttpRequest, debate: Debate) -> HttpResponseBase:
    try:
        phase = services.phase_advance(actor=current_user(request), debate_id=debate.pk)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The debate moved on to the phase “%(name)s”.") % {"name": phase.get_kind_display()},
        )
    return _home(debate)


# The moderation home: the phase, the queue of reports, links to the other tools ------------------


@moderator_view
@require_http_methods(["GET"])
def moderation_home(request: HttpRequest, debate: Debate) -> HttpResponse:
    timeline = timeline_of(debate, timezone.now())
    queue = selectors.moderation_queue(debate)
    return render(
        request,
        "debates/staff/home.html",
        {
            "debate": debate,
            "timeline": timeline,
            "phase": timeline.current,
            "reports": queue.open_reports,
            "pending_count": len(queue.pending_statements),
            "reason_form": ReasonForm(),
        },
    )


def _hide_target(
    debate: Debate, contribution_id: int | None, comment_id: int | None
) -> Contribution | Comment:
    target: Contribution | Comment | None
    if comment_id is not None:
        target = selectors.comment_in(debate, comment_id)
    else:
        assert contribution_id is not None
        target = selectors.contribution_in(debate, contribution_id)
    if target is None:
        raise Http404("No such contribution or comment")
    return target


@moderator_view
@require_http_methods(["GET", "POST"])
def content_hide(
    request: HttpRequest,
    debate: Debate,
    contribution_id: int | None = None,
    comment_id: int | None = None,
) -> HttpResponse:
    target = _hide_target(debate, contribution_id, comment_id)
    form = ReasonForm(request.POST or None)
    hidden = form_submit(
        form,
        lambda data: services.content_hide(
            actor=current_user(request), target=target, reason=data["reason"]
        ),
    )
    if hidden is not None:
        messages.success(request, _("Hidden. Readers see your reason instead."))
        return _home(debate)  # type: ignore[return-value]
    return render(
        request,
        "debates/staff/hide_form.html",
        {
            "debate": debate,
            "target": target,
            "is_comment": isinstance(target, Comment),
            "form": form,
        },
        status=_status(form),
    )


@moderator_view
@require_POST
def report_resolve(request: HttpRequest, debate: Debate, report_id: int) -> HttpResponseBase:
    report = selectors.report_in(debate, report_id)
    if report is None:
        raise Http404("No such report")
    try:
        services.report_resolve(actor=current_user(request), report_id=report.pk)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The report was closed; the content stays visible."))
    return _home(debate)


# Statements: pending ones, publishing and rejecting ----------------------------------------------


@moderator_view
@require_http_methods(["GET"])
def statements(request: HttpRequest, debate: Debate) -> HttpResponse:
    rows = selectors.statements_for_moderation(debate)
    return render(
        request,
        "debates/staff/statements.html",
        {
            "debate": debate,
            "pending": [s for s in rows if s.status == StatementStatus.PENDING],
            "published": [s for s in rows if s.status == StatementStatus.PUBLISHED],
            "rejected": [s for s in rows if s.status == StatementStatus.REJECTED],
            "reason_form": ReasonForm(),
        },
    )


def _statement_or_404(debate: Debate, statement_id: int) -> Statement:
    statement = selectors.statement_in(debate, statement_id)
    if statement is None:
        raise Http404("No such statement")
    return statement


@moderator_view
@require_POST
def statement_publish(request: HttpRequest, debate: Debate, statement_id: int) -> HttpResponseBase:
    statement = _statement_or_404(debate, statement_id)
    try:
        services.statement_moderate(
            actor=current_user(request), statement_id=statement.pk, publish=True
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The statement was published; participants can vote on it."))
    return redirect("debates:staff_statements", debate_id=debate.pk)


@moderator_view
@require_POST
def statement_reject(request: HttpRequest, debate: Debate, statement_id: int) -> HttpResponseBase:
    statement = _statement_or_404(debate, statement_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for rejecting the statement."))
    else:
        try:
            services.statement_moderate(
                actor=current_user(request),
                statement_id=statement.pk,
                publish=False,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The statement was rejected."))
    return redirect("debates:staff_statements", debate_id=debate.pk)


@moderator_view
@require_POST
def statement_edit(request: HttpRequest, debate: Debate, statement_id: int) -> HttpResponseBase:
    """Shorten or correct a statement before anyone has voted on it."""
    statement = _statement_or_404(debate, statement_id)
    form = StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the statement (at most 300 characters)."))
    else:
        try:
            services.statement_edit(
                actor=current_user(request),
                statement_id=statement.pk,
                text=form.cleaned_data["text"],
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The statement was changed."))
    return redirect("debates:staff_statements", debate_id=debate.pk)


# Similar contributions, merged into one statement ------------------------------------------------


def _groups(debate: Debate) -> list[Any]:
    from debates import similarity

    return list(similarity.similar_groups(debate.pk))


def _merge_form(
    debate: Debate, data: Any = None, initial: dict[str, Any] | None = None
) -> MergeForm:
    choices = [(c.pk, c.title or c.body[:60]) for c in selectors.contributions_mergeable(debate)]
    return MergeForm(data, initial=initial, choices=choices)


@moderator_view
@require_http_methods(["GET"])
def similar(request: HttpRequest, debate: Debate) -> HttpResponse:
    groups = _groups(debate)
    return render(
        request,
        "debates/staff/similar.html",
        {"debate": debate, "groups": groups, "merge_form": _merge_form(debate)},
    )


@moderator_view
@require_POST
def merge(request: HttpRequest, debate: Debate) -> HttpResponse | HttpResponseBase:
    form = _merge_form(debate, request.POST)
    created = form_submit(
        form,
        lambda data: services.statement_create_from_contributions(
            actor=current_user(request),
            debate_id=debate.pk,
            text=data["text"],
            contribution_ids=data["contributions"],
        ),
    )
    if created is not None:
        messages.success(
            request,
            _("The statement “%(text)s” was created from %(n)s contributions.")
            % {"text": created.value.text, "n": len(form.cleaned_data["contributions"])},
        )
        return redirect("debates:staff_similar", debate_id=debate.pk)
    return render(
        request,
        "debates/staff/similar.html",
        {"debate": debate, "groups": _groups(debate), "merge_form": form},
        status=422,
    )


# The conclusion -----------------------------------------------------------------------------------


@moderator_view
@require_http_methods(["GET", "POST"])
def conclusion(request: HttpRequest, debate: Debate) -> HttpResponse:
    existing = selectors.conclusion_of(debate)
    initial = {"summary": existing.summary, "outcome": existing.outcome} if existing else None
    form = SummaryForm(request.POST or None, initial=initial)
    published = form_submit(
        form,
        lambda data: services.summary_publish(
            actor=current_user(request),
            debate_id=debate.pk,
            summary=data["summary"],
            outcome=data["outcome"],
        ),
    )
    if published is not None:
        messages.success(request, _("The summary and outcome are published."))
        return redirect("debates:detail", debate_id=debate.pk)
    return render(
        request,
        "debates/staff/conclusion.html",
        {
            "debate": debate,
            "form": form,
            "conclusion": existing,
            "draft_form": ProposalDraftForm(municipality=current_municipality(request)),
        },
        status=_status(form),
    )


@moderator_view
@require_POST
def proposal_draft(request: HttpRequest, debate: Debate) -> HttpResponseBase:
    form = ProposalDraftForm(request.POST, municipality=current_municipality(request))
    if not form.is_valid():
        messages.error(request, _("Choose a proposal type."))
        return redirect("debates:staff_conclusion", debate_id=debate.pk)
    proposal_type = form.cleaned_data["type"]
    try:
        proposal = services.conclusion_to_proposal_draft(
            actor=current_user(request),
            debate_id=debate.pk,
            type_id=proposal_type.pk if proposal_type else None,
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("debates:staff_conclusion", debate_id=debate.pk)
    messages.success(request, _("The conclusion was carried into the proposal."))
    return redirect("proposals:detail", proposal_id=proposal.pk)
