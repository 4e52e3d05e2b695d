"""The resident register: staff import it (with a dry run), residents match against it."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from identity import permissions, selectors, services
from identity.dates import parse_date
from identity.decorators import (
    current_municipality,
    current_user,
    municipality_required,
    staff_view,
)
from identity.form_submit import form_submit
from identity.keys import PersonFacts
from identity.models import User
from identity.register import MAX_ADDRESS, MAX_FILE_BYTES, MAX_NAME

SHOWN_BAD_ROWS = 200
MATCH_ATTEMPTS_PER_HOUR = 10
_WINDOW_SECONDS = 3600


class RegisterImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Register file (CSV)"),
        help_text=gettext_lazy(
            "UTF-8 (with or without BOM) or Shift_JIS. Columns: 住民票コード, 氏名, 生年月日, 住所 "
            "and optionally 住民となった日 (English names work too)."
        ),
    )
    reference_date = forms.DateField(
        label=gettext_lazy("Reference date"),
        help_text=gettext_lazy("The day the register was extracted."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file and show what would change, import nothing"),
        required=False,
        initial=True,
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                gettext_lazy("The file is larger than %(size)d MB."),
                params={"size": MAX_FILE_BYTES // 2**20},
            )
        data: bytes = upload.read()
        return data


class RegisterMatchForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=MAX_NAME,
        help_text=gettext_lazy("As written on your residence certificate (住民票)."),
    )
    birth_date = forms.CharField(
        label=gettext_lazy("Date of birth"),
        max_length=20,
        help_text=gettext_lazy("For example 1990-04-01 or 平成2年4月1日."),
    )
    address = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=MAX_ADDRESS,
        help_text=gettext_lazy("As written on your residence certificate, with the block number."),
    )

    def clean_birth_date(self) -> date:
        try:
            return parse_date(self.cleaned_data["birth_date"])
        except ValueError:
            raise forms.ValidationError(
                gettext_lazy("Write the date like 1990-04-01 or 平成2年4月1日.")
            ) from None


@staff_view(permissions.can_manage_register)
@require_http_methods(["GET", "POST"])
def register_import(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    if request.method == "POST":
        form = RegisterImportForm(request.POST, request.FILES)
    else:
        form = RegisterImportForm(initial={"reference_date": timezone.localdate()})
    submitted = form_submit(
        form,
        lambda data: services.register_import(
            actor=current_user(request),
            municipality=municipality,
            data=data["file"],
            reference_date=data["reference_date"],
            dry_run=data["dry_run"],
        ),
    )
    report = submitted.value if submitted is not None else None
    if report is not None and report.applied:
        messages.success(
            request,
            _(
                "The register of %(date)s is now current: %(rows)d rows. "
                "%(kept)d verifications kept, %(moved)d ended as moved out."
            )
            % {
                "date": report.reference_date.isoformat(),
                "rows": report.rows,
                "kept": report.kept,
                "moved": report.moved_out,
            },
        )
        return redirect("identity:register_import")
    bad_rows = report.bad_rows(SHOWN_BAD_ROWS) if report is not None else []
    return render(
        request,
        "identity/register/import.html",
        {
            "form": form,
            "report": report,
            "bad_rows": bad_rows,
            "more_bad_rows": report.bad_lines - len(bad_rows) if report is not None else 0,
            "current": selectors.register_current(municipality),
            "verified_by_register": selectors.verifications_by_register_count(municipality),
        },
        status=422 if form.errors or (report is not None and not report.ok) else 200,
    )


def _attempts_key(user: User) -> str:
    return f"mebuku:register-match:{user.pk}"


def _attempts_left(user: User) -> int:
    return max(0, MATCH_ATTEMPTS_PER_HOUR - int(cache.get(_attempts_key(user), 0)))


def _take_attempt(user: User) -> bool:
    """Count one attempt; False once this hour's are used up, so birthdates cannot be guessed."""
    key = _attempts_key(user)
    cache.add(key, 0, timeout=_WINDOW_SECONDS)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_WINDOW_SECONDS)
        attempts = 1
    if attempts is None:  # the cache is unreachable (its errors are misses): count from zero
        attempts = 1
    return attempts <= MATCH_ATTEMPTS_PER_HOUR


def _after_verification() -> str:
    try:
        return reverse("identity:my_verification")
    except NoReverseMatch:
        return reverse("identity:account")


@municipality_required
@login_required
@require_http_methods(["GET", "POST"])
def register_match(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    user = current_user(request)
    form = RegisterMatchForm(request.POST if request.method == "POST" else None)
    limited = _attempts_left(user) == 0
    status = 200
    if form.is_bound and not limited and form.is_valid():
        if not _take_attempt(user):
            limited = True
        else:
            done = form_submit(
                form,
                lambda data: services.verification_by_register(
                    user=user,
                    municipality=municipality,
                    person=PersonFacts(
                        name=data["name"], birth_date=data["birth_date"], address=data["address"]
                    ),
                ),
            )
            if done is not None:
                messages.success(
                    request,
                    _("You are now a verified resident of %(municipality)s.")
                    % {"municipality": municipality.display_name},
                )
                return redirect(_after_verification())
    if limited:
        status = 429
    elif form.errors:
        status = 422
    response = render(
        request,
        "identity/register/match.html",
        {
            "form": form,
            "limited": limited,
            "attempts_per_hour": MATCH_ATTEMPTS_PER_HOUR,
            "has_register": selectors.register_exists(municipality),
        },
        status=status,
    )
    if limited:  # at most the window: the count started within it
        response["Retry-After"] = str(_WINDOW_SECONDS)
    return response
