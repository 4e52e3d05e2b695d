"""Election pages for residents and the public: the list, an election, my elections, the ballot
(encrypted in the browser), the bulletin board, audited ballots, results and the record.

Thin: selectors read (and enforce visibility), the ballot itself goes to the JSON API from the
browser, so nothing here ever sees a choice."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from identity.decorators import current_municipality, current_user, municipality_required
from identity.errors import NotFound
from identity.models import User
from voting import selectors
from voting.forms import TrackerSearchForm
from voting.models import Election, Phase, Question, Status

ELECTIONS_PER_PAGE = 20
BOARD_PER_PAGE = selectors.BOARD_PAGE_SIZE


def _user_or_none(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _election_or_404(request: HttpRequest, election_id: int) -> Election:
    try:
        return selectors.election_visible(
            current_municipality(request), election_id, _user_or_none(request)
        )
    except NotFound as error:
        raise Http404(str(error.message)) from error


def _public_election_or_404(request: HttpRequest, election_id: int) -> Election:
    """The bulletin board, results and record exist only from freezing on, for everyone alike."""
    election = _election_or_404(request, election_id)
    if election.status == Status.DRAFT:
        raise Http404("Not public yet")
    return election


@municipality_required
@require_GET
def election_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    elections = selectors.elections_public(current_municipality(request)).order_by(
        "-opens_at", "-id"
    )
    page = Paginator(elections, ELECTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "voting/list.html",
        {"page": page, "rows": [(e, e.phase(now), Phase(e.phase(now)).label) for e in page]},
    )


def selection_hint(lo: int, hi: int) -> str:
    """How many options may be chosen, in words (the ballot, the election and office pages)."""
    if lo == hi == 1:
        return _("Choose one.")
    if lo == 0 and hi == 1:
        return _("Choose one, or leave the question blank.")
    if lo == hi:
        return ngettext("Choose exactly %(n)s.", "Choose exactly %(n)s.", hi) % {"n": hi}
    if lo == 0:
        return ngettext("Choose up to %(n)s, or none.", "Choose up to %(n)s, or none.", hi) % {
            "n": hi
        }
    return _("Choose at least %(lo)s and at most %(hi)s.") % {"lo": lo, "hi": hi}


def _question_view(question: Question) -> dict[str, Any]:
    lo, hi = question.min_selections, question.max_selections
    hint = selection_hint(lo, hi)
    return {
        "qid": question.qid,
        "text": question.text,
        "options": question.options,
        "min_selections": lo,
        "max_selections": hi,
        "hint": hint,
        "input_type": "radio" if hi == 1 else "checkbox",
        "blank_choice": hi == 1 and lo == 0,
    }


@municipality_required
@require_GET
def election_detail(request: HttpRequest, election_id: int) -> HttpResponse:
    election = _election_or_404(request, election_id)
    now = timezone.now()
    status = selectors.voter_status(request.user, election, now)
    return render(
        request,
        "voting/detail.html",
        {
            "election": election,
            "phase": election.phase(now),
            "phase_label": Phase(election.phase(now)).label,
            "questions": [_question_view(q) for q in selectors.questions_of(election)],
            "status": status,
            "my_ballot": selectors.my_ballot(request.user, election),
            "trustee": selectors.trustee_of(request.user, election),
            "results_csv_url": reverse("voting:results_csv", kwargs={"election_id": election.pk}),
        },
    )


@municipality_required
@login_required
@require_GET
def my_elections(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    user = current_user(request)
    trusteeships = selectors.trusteeships_of(user, municipality)
    return render(
        request,
        "voting/mine.html",
        {
            "rows": [
                (row, Phase(row.phase).label) for row in selectors.my_elections(user, municipality)
            ],
            "trusteeships": trusteeships,
        },
    )


def _ballot_messages() -> dict[str, str]:
    """What the ballot script says, translated here so the script holds no text of its own."""
    return {
        "too_few": _("Choose at least %(min)s here (you chose %(chosen)s)."),
        "too_many": _("Choose at most %(max)s here (you chose %(chosen)s)."),
        "summary": _(
            "Please correct the questions marked below (%(count)s). Nothing has been sent."
        ),
        "blank": _("No choice (blank)"),
        "encrypting": _("Encrypting your ballot in this browser… this can take a few seconds."),
        "encrypt_failed": _("Your ballot could not be encrypted. Reload the page and try again."),
        "casting": _("Sending your encrypted ballot…"),
        "cast_failed": _("Your ballot was not accepted. Reload the page and try again."),
        "auditing": _("Revealing and checking this ballot…"),
        "audit_failed": _("The server did not record the audited ballot."),
        "audit_ok": _("it matches: the ballot encrypts exactly the choices shown below."),
        "audit_bad": _(
            "it does NOT match your choices. Do not vote on this device; tell the election office."
        ),
        "network": _("The connection failed; nothing was recorded. Try again."),
    }


@municipality_required
@login_required
@require_GET
def ballot(request: HttpRequest, election_id: int) -> HttpResponse:
    election = _election_or_404(request, election_id)
    user = current_user(request)
    now = timezone.now()
    status = selectors.voter_status(user, election, now)
    phase = election.phase(now)
    if not status.can_cast_now:
        return render(
            request,
            "voting/cannot_vote.html",
            {
                "election": election,
                "status": status,
                "phase": phase,
                "phase_label": Phase(phase).label,
            },
            status=403 if not status.allowed else 409,
        )
    assert election.header is not None
    questions = selectors.questions_of(election)
    board_url = reverse("voting:board", kwargs={"election_id": election.pk})
    api_kwargs = {"slug": election.municipality.slug, "election_id": election.pk}
    data = {
        "election_hash": election.election_hash,
        "joint_public_key": election.header["joint_public_key"],
        "alias": status.alias,
        "questions": [q.to_json() for q in questions],
        "cast_url": reverse("api:ballot_cast", kwargs=api_kwargs),
        "audit_url": reverse("api:ballot_audit", kwargs=api_kwargs),
        "board_url": board_url,
        "audited_url": reverse(
            "voting:audited_ballot", kwargs={"election_id": election.pk, "tracker": "__tracker__"}
        ),
        "csrf_token": get_token(request),
        "messages": _ballot_messages(),
    }
    return render(
        request,
        "voting/ballot.html",
        {
            "election": election,
            "questions": [_question_view(q) for q in questions],
            "last_ballot": selectors.my_ballot(user, election),
            "board_url": board_url,
            "ballot_data": data,
        },
    )


@municipality_required
@require_GET
def board(request: HttpRequest, election_id: int) -> HttpResponse:
    election = _public_election_or_404(request, election_id)
    form = TrackerSearchForm(request.GET or None)
    query = form.cleaned_data["tracker"] if form.is_bound and form.is_valid() else ""
    page_number = request.GET.get("page", "1")
    board_page = selectors.bulletin_board(
        election,
        query=query,
        page=int(page_number) if page_number.isdigit() else 1,
        per_page=BOARD_PER_PAGE,
    )
    audited = selectors.audited_ballots(election)
    if query:
        audited = [a for a in audited if a.tracker.startswith(query)]
    return render(
        request,
        "voting/board.html",
        {
            "election": election,
            "form": form,
            "board": board_page,
            "audited": audited,
            "query": query,
            "exact": query if len(query) == 64 else "",
            "previous_page": board_page.page - 1 if board_page.page > 1 else None,
            "next_page": board_page.page + 1 if board_page.page < board_page.pages else None,
            "board_csv_url": reverse("voting:board_csv", kwargs={"election_id": election.pk}),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


@municipality_required
@require_GET
def audited_ballot(request: HttpRequest, election_id: int, tracker: str) -> HttpResponse:
    """One audited ballot: the choices the server found in it from the revealed randomness."""
    election = _public_election_or_404(request, election_id)
    found = next((a for a in selectors.audited_ballots(election) if a.tracker == tracker), None)
    if found is None:
        raise Http404("No such audited ballot")
    questions = selectors.questions_of(election)
    rows = []
    for qi, question in enumerate(questions):
        chosen = set(found.selections.get(question.qid, []))
        answer = found.ballot["answers"][qi]
        randomness = found.randomness[qi]["randomness"] if qi < len(found.randomness) else []
        for oi, option in enumerate(question.options):
            rows.append(
                {
                    "question": question.text,
                    "option": option["text"],
                    "chosen": option["id"] in chosen,
                    "rho": randomness[oi] if oi < len(randomness) else "",
                    "alpha": answer["choices"][oi]["alpha"],
                    "beta": answer["choices"][oi]["beta"],
                }
            )
    document = {
        "election_hash": election.election_hash,
        "joint_public_key": (election.header or {}).get("joint_public_key"),
        "tracker": found.tracker,
        "ballot": found.ballot,
        "randomness": found.randomness,
        "selections": found.selections,
    }
    return render(
        request,
        "voting/audited_ballot.html",
        {
            "election": election,
            "audited": found,
            "rows": rows,
            "document": json.dumps(document, indent=2, ensure_ascii=False),
        },
    )


@municipality_required
@require_GET
def results(request: HttpRequest, election_id: int) -> HttpResponse:
    election = _public_election_or_404(request, election_id)
    outcome = selectors.results_of(election)
    return render(
        request,
        "voting/results.html",
        {
            "election": election,
            "phase": election.phase(),
            "phase_label": Phase(election.phase()).label,
            "results": outcome,
            "questions": [
                (question, [(option, round(option.share * 100, 1)) for option in question.options])
                for question in (outcome.questions if outcome else [])
            ],
            "turnout_percent": round(outcome.turnout * 100, 1) if outcome else None,
            "results_csv_url": reverse("voting:results_csv", kwargs={"election_id": election.pk}),
            "board_csv_url": reverse("voting:board_csv", kwargs={"election_id": election.pk}),
        },
    )
