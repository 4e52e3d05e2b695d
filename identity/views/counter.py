"""Counter pages: find or create a resident's account, verify them in person, print a set-password
letter, withdraw a verification. Counter clerks and administrators, with MFA (the predicate says).

Every page that shows personal data records one `verification.staff_view` audit entry.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity import permissions, selectors, services
from identity.dates import parse_date
from identity.decorators import current_municipality, current_user, staff_view
from identity.errors import DomainError, NotFound
from identity.form_submit import form_submit
from identity.keys import PersonFacts
from identity.models import DocumentType, EndReason, User
from identity.services.counter import is_counter_login, letter_allowed, letter_needs_resident

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SEARCH_LIMIT = 50
_DATE_HELP = gettext_lazy("For example 1990-04-01 or 平成2年4月1日.")


# Forms (counter only) --------------------------------------------------------------------------


class CounterSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("E-mail address, login id or name"),
        min_length=2,
        max_length=100,
        help_text=gettext_lazy(
            "An e-mail address or login id finds that account; a name finds people verified in "
            "this municipality under that name."
        ),
    )


class AccountCreateForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("The resident's e-mail address"),
        required=False,
        help_text=gettext_lazy(
            "Leave empty if the resident has none: a login id is generated for the letter."
        ),
    )
    display_name = forms.CharField(
        label=gettext_lazy("Display name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Shown beside what the resident writes; may stay empty."),
    )


def _date_field(label: StrOrPromise, *, required: bool) -> forms.CharField:
    return forms.CharField(label=label, max_length=40, required=required, help_text=_DATE_HELP)


class CounterVerifyForm(forms.Form):
    legal_name = forms.CharField(label=gettext_lazy("Name (as on the document)"), max_length=100)
    birth_date = _date_field(gettext_lazy("Date of birth"), required=True)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200)
    document_type = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"),
        choices=[("", "—"), *DocumentType.choices],
        help_text=gettext_lazy("Record only the type of document. Never write down its number."),
    )
    resident_since = _date_field(gettext_lazy("Resident since (optional)"), required=False)

    def _parsed(self, name: str) -> date | None:
        text = self.cleaned_data.get(name, "")
        if not text:
            return None
        try:
            return parse_date(text)
        except ValueError:
            raise forms.ValidationError(
                _("This is not a date we can read. Write it like 1990-04-01 or 平成2年4月1日."),
                code="date",
            ) from None

    def clean_birth_date(self) -> date | None:
        parsed = self._parsed("birth_date")
        if parsed is not None and parsed > timezone.localdate():
            raise forms.ValidationError(_("The date of birth is in the future."), code="future")
        return parsed

    def clean_resident_since(self) -> date | None:
        parsed = self._parsed("resident_since")
        if parsed is not None and parsed > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."), code="future")
        return parsed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        born, since = data.get("birth_date"), data.get("resident_since")
        if born and since and since < born:
            self.add_error("resident_since", _("This is before the date of birth."))
        return data

    def person(self) -> PersonFacts:
        return PersonFacts(
            name=self.cleaned_data["legal_name"],
            birth_date=self.cleaned_data["birth_date"],
            address=self.cleaned_data["address"],
        )


class ResidentPresentForm(forms.Form):
    """A later letter (the resident set a password already) is given only to the resident in
    person: the clerk confirms it and names the document checked (never its number)."""

    present = forms.BooleanField(
        label=gettext_lazy("The resident is here in person and I checked their identity document."),
        required=True,
    )
    document_type = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"),
        choices=[("", "—"), *DocumentType.choices],
    )


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is it withdrawn?"),
        choices=[
            (value, label) for value, label in EndReason.choices if value != EndReason.RENEWED
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("Note (optional)"), max_length=200, required=False)


# Helpers ----------------------------------------------------------------------------------------


def _person_context(
    request: HttpRequest,
    person: User,
    *,
    verify_form: CounterVerifyForm | None = None,
    revoke_form: RevokeForm | None = None,
) -> dict[str, Any]:
    municipality = current_municipality(request)
    history = selectors.verifications_of_person(municipality, person)
    active = next((v for v in history if v.ended_at is None), None)
    letter_reach = selectors.letter_reachable(municipality, person)
    services.staff_view_record(
        actor=current_user(request),
        municipality=municipality,
        view="person",
        query_kind="id",
        results=1,
        user=person,
    )
    return {
        "person": person,
        "history": history,
        "active": active,
        "now": timezone.now(),
        "is_self": person.pk == request.user.pk,
        "verify_form": verify_form or CounterVerifyForm(),
        "revoke_form": revoke_form or RevokeForm(),
        "letter_allowed": letter_reach and letter_allowed(person),
        "letter_needs_resident": letter_reach and letter_needs_resident(person),
        "present_form": ResidentPresentForm(),
        "counter_login": is_counter_login(person.email),
    }


def _person(request: HttpRequest, user_id: int) -> User:
    """The account, if it is within this counter's reach (else 404, as if it did not exist)."""
    person = selectors.account_for_counter(current_municipality(request), user_id)
    if person is None:
        raise Http404("No such account")
    return person


# Pages ------------------------------------------------------------------------------------------


@staff_view(permissions.can_verify_at_counter)
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = CounterSearchForm(request.GET or None)
    results: list[User] | None = None
    if form.is_bound and form.is_valid():
        kind, results = selectors.accounts_search(
            municipality, form.cleaned_data["q"], SEARCH_LIMIT
        )
        services.staff_view_record(
            actor=current_user(request),
            municipality=municipality,
            view="search",
            query_kind="email" if kind == "email" else "name",
            results=len(results),
        )
    return render(
        request,
        "identity/counter/search.html",
        {"form": form, "results": results, "limit": SEARCH_LIMIT, "now": timezone.now()},
    )


@staff_view(permissions.can_verify_at_counter)
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST or None)
    created = form_submit(
        form,
        lambda data: services.resident_account_create(
            actor=current_user(request),
            municipality=current_municipality(request),
            email=data["email"],
            display_name=data["display_name"],
        ),
    )
    if created is not None:
        messages.success(
            request,
            _("The account was created. Now verify the resident and print the letter."),
        )
        return redirect("identity:counter_person", user_id=created.value.pk)
    return render(
        request,
        "identity/counter/account_create.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


@staff_view(permissions.can_verify_at_counter)
@require_GET
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    return render(
        request,
        "identity/counter/person.html",
        _person_context(request, _person(request, user_id)),
    )


@staff_view(permissions.can_verify_at_counter)
@require_POST
def verify(request: HttpRequest, user_id: int) -> HttpResponseBase:
    person = _person(request, user_id)
    form = CounterVerifyForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.verification_by_counter(
                actor=current_user(request),
                municipality=current_municipality(request),
                user=person,
                person=form.person(),
                document_type=form.cleaned_data["document_type"],
                resident_since=form.cleaned_data["resident_since"],
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
            status = error.status
        else:
            messages.success(request, _("The resident is verified."))
            return redirect("identity:counter_person", user_id=person.pk)
    return render(
        request,
        "identity/counter/person.html",
        _person_context(request, person, verify_form=form),
        status=status,
    )


@staff_view(permissions.can_verify_at_counter)
@require_POST
def revoke(request: HttpRequest, verification_id: int) -> HttpResponseBase:
    municipality = current_municipality(request)
    verification = selectors.verification_of_municipality(municipality, verification_id)
    if verification is None:
        raise Http404("No such verification")
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why the verification is withdrawn."))
    else:
        try:
            services.verification_revoke(
                actor=current_user(request),
                municipality=municipality,
                verification_id=verification.pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The verification was withdrawn."))
    return redirect("identity:counter_person", user_id=verification.user_id)


def _qr_svg(url: str) -> SafeString:
    """The link as an inline SVG QR code (no JavaScript, no image request, prints sharply)."""
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    svg: str = image.to_string(encoding="unicode")
    # Generated by qrcode from our own URL: no user input reaches the markup.
    return mark_safe(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))  # noqa: S308  # (qrcode output)  # nosec B308 B703


@never_cache
@staff_view(permissions.can_verify_at_counter)
@require_http_methods(["GET", "POST"])
def letter(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """GET: the first letter. POST (from the person page): a later letter, with the resident
    present and their document checked."""
    municipality = current_municipality(request)
    document = ""
    if request.method == "POST":
        form = ResidentPresentForm(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                _("Confirm that the resident is here and choose the document you checked."),
            )
            return redirect("identity:counter_person", user_id=user_id)
        document = form.cleaned_data["document_type"]
    try:
        issued = services.resident_letter_issue(
            actor=current_user(request),
            municipality=municipality,
            user_id=user_id,
            resident_present_document=document,
        )
    except NotFound:
        raise Http404("No such account") from None
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("identity:counter_person", user_id=user_id)
    url = request.build_absolute_uri(
        reverse(
            "account_reset_password_from_key",
            kwargs={"uidb36": issued.uidb36, "key": issued.key},
        )
    )
    current = selectors.verification_active(issued.user, municipality)
    issued_at = timezone.now()
    return render(
        request,
        "identity/counter/letter.html",
        {
            "resident": issued.user,
            "legal_name": current.legal_name if current else "",
            "login": issued.user.email,
            "set_password_url": url,
            "qr_svg": _qr_svg(url),
            "issued_at": issued_at,
            "valid_until": issued_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
            "sign_in_url": request.build_absolute_uri(reverse("account_login")),
        },
    )
