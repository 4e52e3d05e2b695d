"""The election office's pages: prepare an election, appoint trustees, freeze the roll, close,
tally and publish. Every page needs the election-office role with two-step verification; forms
validate, services write, and a refused action leaves everything as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.decorators import current_municipality, current_user, staff_view
from identity.errors import DomainError
from identity.form_submit import button_submit, form_submit
from identity.models import Municipality
from voting import permissions, selectors, services
from voting.forms import ElectionForm, QuestionFormSet, TrusteeAppointForm
from voting.models import Election, Status
from voting.views import selection_hint

EXCLUSIONS_PER_PAGE = 100


def _election_or_404(municipality: Municipality, election_id: int) -> Election:
    election = selectors.election_in(municipality, election_id)
    if election is None:
        raise Http404("No such election")
    return election


def _back(election_id: int) -> HttpResponseBase:
    return redirect("voting:office_detail", election_id=election_id)


def _act(
    request: HttpRequest, election_id: int, success: str, action: Callable[..., object]
) -> HttpResponseBase:
    """A button on the election's office page: call the service, say what happened, go back."""
    _election_or_404(current_municipality(request), election_id)
    button_submit(
        request,
        lambda: action(
            actor=current_user(request),
            municipality=current_municipality(request),
            election_id=election_id,
        ),
        success,
    )
    return _back(election_id)


@staff_view(permissions.can_manage_elections)
@require_GET
def office_list(request: HttpRequest) -> HttpResponse:
    elections = selectors.office_election_list(current_municipality(request))
    page = Paginator(elections, 50).get_page(request.GET.get("page"))
    return render(request, "voting/office/list.html", {"page": page})


@staff_view(permissions.can_manage_elections)
@require_http_methods(["GET", "POST"])
def office_edit(request: HttpRequest, election_id: int | None = None) -> HttpResponse:
    municipality = current_municipality(request)
    election = _election_or_404(municipality, election_id) if election_id is not None else None
    if election is not None and election.status != Status.DRAFT:
        messages.error(
            request, _("The election is frozen: its questions, voter roll and keys cannot change.")
        )
        return _back(election.pk)  # type: ignore[return-value]
    initial: dict[str, Any] = {}
    if election is not None:
        initial = {
            "title": election.title,
            "explanation": election.explanation,
            "opens_at": election.opens_at,
            "closes_at": election.closes_at,
            "min_age": election.min_age,
            "register_date": election.register_date,
            "methods": election.methods,
        }
    form = ElectionForm(request.POST or None, initial=initial or None)

    def save(_data: dict[str, Any]) -> Election:
        if election is None:
            return services.election_create(
                actor=current_user(request), municipality=municipality, values=form.values()
            )
        return services.election_update(
            actor=current_user(request),
            municipality=municipality,
            election_id=election.pk,
            values=form.values(),
        )

    saved = form_submit(form, save)
    if saved is not None:
        messages.success(request, _("The election “%(title)s” was saved.") % {"title": saved.value})
        if election is None:
            return redirect("voting:office_questions", election_id=saved.value.pk)
        return _back(saved.value.pk)  # type: ignore[return-value]
    return render(
        request,
        "voting/office/election_form.html",
        {"form": form, "election": election},
        status=422 if form.errors else 200,
    )


def _detail_context(election: Election) -> dict[str, Any]:
    trustees = selectors.trustees_of(election)
    decrypted = (
        selectors.decrypted_trustee_ids(election)
        if election.status in (Status.TALLIED, Status.PUBLISHED)
        else set()
    )
    counts = selectors.ballot_counts(election)
    draft = election.status == Status.DRAFT
    return {
        "election": election,
        "phase": election.phase(),
        "questions": [
            (question, selection_hint(question.min_selections, question.max_selections))
            for question in selectors.questions_of(election)
        ],
        "trustees": trustees,
        "decrypted": decrypted,
        "keys_ready": len(trustees) >= services.MIN_TRUSTEES
        and all(t.uploaded_at for t in trustees),
        "min_trustees": services.MIN_TRUSTEES,
        "draft": draft,
        "roll_size": election.roll.count() if not draft else None,
        "excluded": election.exclusions.count() if not draft else None,
        "counts": counts,
        "all_decrypted": bool(trustees) and len(decrypted) == len(trustees),
    }


def _detail_page(
    request: HttpRequest, election: Election, *, appoint_form: TrusteeAppointForm | None = None
) -> HttpResponse:
    return render(
        request,
        "voting/office/detail.html",
        {**_detail_context(election), "appoint_form": appoint_form or TrusteeAppointForm()},
        status=422 if appoint_form is not None and appoint_form.errors else 200,
    )


@staff_view(permissions.can_manage_elections)
@require_GET
def office_detail(request: HttpRequest, election_id: int) -> HttpResponse:
    return _detail_page(request, _election_or_404(current_municipality(request), election_id))


@staff_view(permissions.can_manage_elections)
@require_http_methods(["GET", "POST"])
def office_questions(request: HttpRequest, election_id: int) -> HttpResponse:
    municipality = current_municipality(request)
    election = _election_or_404(municipality, election_id)
    if election.status != Status.DRAFT:
        messages.error(
            request, _("The election is frozen: its questions, voter roll and keys cannot change.")
        )
        return _back(election.pk)  # type: ignore[return-value]
    existing = selectors.questions_of(election)
    initial = [QuestionFormSet.form.initial_of(q) for q in existing]
    # Two empty slots below the questions already there, so a question can be added without
    # JavaScript; empty slots are ignored.
    initial += [{"kind": "yes_no", "min_selections": 0, "max_selections": 1}] * 2
    formset = QuestionFormSet(request.POST or None, initial=initial[:20], prefix="q")
    error: str | None = None
    if request.method == "POST" and formset.is_valid():
        values = [form.values() for form in formset.forms if not form.is_blank()]
        try:
            services.questions_set(
                actor=current_user(request),
                municipality=municipality,
                election_id=election.pk,
                questions=values,
            )
        except DomainError as problem:
            error = str(problem.message)
        else:
            messages.success(
                request,
                _("%(n)s questions saved.") % {"n": len(values)}
                if len(values) != 1
                else _("1 question saved."),
            )
            return _back(election.pk)  # type: ignore[return-value]
    return render(
        request,
        "voting/office/questions.html",
        {"election": election, "formset": formset, "error": error},
        status=422 if error or (formset.is_bound and not formset.is_valid()) else 200,
    )


@staff_view(permissions.can_manage_elections)
@require_POST
def office_trustee_appoint(request: HttpRequest, election_id: int) -> HttpResponseBase:
    municipality = current_municipality(request)
    election = _election_or_404(municipality, election_id)
    form = TrusteeAppointForm(request.POST)
    appointed = form_submit(
        form,
        lambda data: services.trustee_appoint(
            actor=current_user(request),
            municipality=municipality,
            election_id=election.pk,
            email=data["email"],
        ),
        error_field="email",
    )
    if appointed is not None:
        trustee = appointed.value
        messages.success(
            request,
            _(
                "%(email)s is now trustee %(tid)s. They upload their public key on their "
                "trustee page."
            )
            % {"email": trustee.user.email, "tid": trustee.tid},
        )
        return _back(election.pk)
    return _detail_page(request, election, appoint_form=form)


@staff_view(permissions.can_manage_elections)
@require_POST
def office_trustee_remove(
    request: HttpRequest, election_id: int, trustee_id: int
) -> HttpResponseBase:
    def remove(**kwargs: Any) -> None:
        services.trustee_remove(trustee_id=trustee_id, **kwargs)

    return _act(request, election_id, _("The trustee was removed."), remove)


@staff_view(permissions.can_manage_elections)
@require_http_methods(["GET", "POST"])
def office_freeze(request: HttpRequest, election_id: int) -> HttpResponseBase:
    """A confirmation page that says what becomes unchangeable, then the freeze itself."""
    municipality = current_municipality(request)
    election = _election_or_404(municipality, election_id)
    if request.method == "POST":
        try:
            result = services.election_freeze(
                actor=current_user(request), municipality=municipality, election_id=election.pk
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _(
                    "The election is frozen. %(roll)s voters are on the roll; %(excluded)s people "
                    "were left off (see the roll report)."
                )
                % {"roll": result.roll_size, "excluded": result.excluded},
            )
            return _back(election.pk)
    return render(request, "voting/office/freeze.html", _detail_context(election))


@staff_view(permissions.can_view_roll_report)
@require_GET
def office_roll_report(request: HttpRequest, election_id: int) -> HttpResponse:
    """Who was left off the roll and why (office only: it names people)."""
    election = _election_or_404(current_municipality(request), election_id)
    exclusions = selectors.roll_exclusions(election)
    by_code = selectors.roll_exclusion_counts(election)
    page = Paginator(exclusions, EXCLUSIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(exclusion, permissions.reason_message(exclusion.code, election)) for exclusion in page]
    return render(
        request,
        "voting/office/roll_report.html",
        {
            "election": election,
            "page": page,
            "rows": rows,
            "by_code": [
                (code, permissions.reason_message(code, election), n) for code, n in by_code
            ],
            "roll_size": election.roll.count(),
        },
    )


@staff_view(permissions.can_manage_elections)
@require_POST
def office_close(request: HttpRequest, election_id: int) -> HttpResponseBase:
    return _act(
        request,
        election_id,
        _("Voting is closed. The encrypted tally is computed next; then the trustees decrypt it."),
        services.election_close,
    )


@staff_view(permissions.can_manage_elections)
@require_POST
def office_tally(request: HttpRequest, election_id: int) -> HttpResponseBase:
    return _act(
        request,
        election_id,
        _("The encrypted tally is ready. The trustees can now download it and decrypt."),
        services.tally_compute,
    )


@staff_view(permissions.can_manage_elections)
@require_POST
def office_publish(request: HttpRequest, election_id: int) -> HttpResponseBase:
    return _act(
        request,
        election_id,
        _("The results and the election record are published."),
        services.election_publish,
    )
