"""The council's review: the queue with overdue answers, the review page, and its actions (start
the review, ask the author, attach a document, publish the answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from identity.decorators import current_municipality, current_user, staff_view
from identity.exports import csv_response
from identity.form_submit import button_submit, form_submit
from identity.models import Municipality
from proposals import permissions, selectors, services
from proposals.forms import AnswerForm, ClarificationForm, DocumentForm
from proposals.models import Proposal
from proposals.rendering import render_markdown

OVERDUE_COLUMNS = (
    "proposal_id",
    "title",
    "status",
    "submitted_at",
    "answer_due_on",
    "days_overdue",
)


def _proposal_or_404(municipality: Municipality, proposal_id: int) -> Proposal:
    proposal = selectors.council_proposal(municipality, proposal_id)
    if proposal is None:
        raise Http404("No such proposal")
    return proposal


@staff_view(permissions.can_review)
@require_GET
def council_queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    proposals = list(selectors.council_queue(current_municipality(request)))
    overdue = [p for p in proposals if p.answer_due_on is not None and p.answer_due_on < today]
    return render(
        request,
        "proposals/staff/council_queue.html",
        {
            "proposals": proposals,
            "overdue_ids": {p.pk for p in overdue},
            "overdue_count": len(overdue),
            "today": today,
        },
    )


@staff_view(permissions.can_review)
@require_GET
def council_overdue_csv(request: HttpRequest) -> HttpResponseBase:
    municipality = current_municipality(request)
    today = timezone.localdate()
    overdue = selectors.council_overdue(municipality, today)
    return csv_response(
        request,
        f"council-overdue-{municipality.slug}-{today.isoformat()}.csv",
        OVERDUE_COLUMNS,
        (
            [
                p.pk,
                p.title,
                p.status,
                p.submitted_at,
                p.answer_due_on,
                (today - p.answer_due_on).days if p.answer_due_on else "",
            ]
            for p in overdue.iterator(chunk_size=500)
        ),
    )


def _council_page(
    request: HttpRequest, proposal: Proposal, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    """The review page; `bound` holds a refused form by its slot, shown again with its errors."""
    bound = bound or {}
    reviewing = proposal.status in selectors.COUNCIL_STATUSES
    today = timezone.localdate()
    return render(
        request,
        "proposals/staff/council_detail.html",
        {
            "proposal": proposal,
            "body": render_markdown(proposal.body),
            "reviewing": reviewing,
            "overdue": reviewing
            and proposal.answer_due_on is not None
            and proposal.answer_due_on < today,
            "documents": selectors.council_documents(proposal),
            "timeline": proposal.timeline.all(),
            "clarification_form": ClarificationForm(),
            "document_form": DocumentForm(),
            "answer_form": AnswerForm(),
            **bound,
        },
        status=422 if any(f.errors for f in bound.values()) else 200,
    )


@staff_view(permissions.can_review)
@require_GET
def council_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    return _council_page(request, _proposal_or_404(current_municipality(request), proposal_id))


def _back_to_council(proposal: Proposal) -> HttpResponseBase:
    return redirect("proposals:staff_council_detail", proposal_id=proposal.pk)


@staff_view(permissions.can_review)
@require_POST
def council_review_start(request: HttpRequest, proposal_id: int) -> HttpResponseBase:
    button_submit(
        request,
        lambda: services.review_start(
            actor=current_user(request),
            municipality=current_municipality(request),
            proposal_id=proposal_id,
        ),
        _("The review has started."),
    )
    return redirect("proposals:staff_council_detail", proposal_id=proposal_id)


@dataclass(frozen=True)
class CouncilAction:
    """A form on the review page: its fields go to the service by name, next to the actor, the
    municipality and the proposal."""

    form_class: type[forms.Form]
    slot: str
    service: Callable[..., object]
    success: Promise
    then: Callable[[Proposal], HttpResponseBase] = _back_to_council


COUNCIL_ACTIONS = {
    "clarify": CouncilAction(
        ClarificationForm,
        "clarification_form",
        services.clarification_request,
        gettext_lazy("Your question was sent to the author."),
    ),
    "document": CouncilAction(
        DocumentForm,
        "document_form",
        services.document_attach,
        gettext_lazy("The document was attached."),
    ),
    "answer": CouncilAction(
        AnswerForm,
        "answer_form",
        services.proposal_answer,
        gettext_lazy("The council's answer was published."),
        then=lambda proposal: redirect("proposals:detail", proposal_id=proposal.pk),
    ),
}


@staff_view(permissions.can_review)
@require_POST
def council_act(request: HttpRequest, proposal_id: int, action: str) -> HttpResponseBase:
    """Validate, call the service, then go on — or show the review page again with the form's
    errors (nothing changed)."""
    act = COUNCIL_ACTIONS[action]
    municipality = current_municipality(request)
    proposal = _proposal_or_404(municipality, proposal_id)
    form = act.form_class(request.POST, request.FILES)
    done = form_submit(
        form,
        lambda data: act.service(
            actor=current_user(request),
            municipality=municipality,
            proposal_id=proposal.pk,
            **data,
        ),
    )
    if done is not None:
        messages.success(request, str(act.success))
        return act.then(proposal)
    return _council_page(request, proposal, {act.slot: form})
