"""My account: download my data, delete my account. Thin: services export and erase."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from identity import services
from identity.decorators import current_user
from identity.exports import csv_response
from identity.form_submit import form_status, form_submit
from identity.forms import AccountDeleteForm
from identity.services.account import CSV_COLUMNS, export_json, export_rows


def _filename(fmt: str) -> str:
    return f"mebuku-my-data-{timezone.localdate().isoformat()}.{fmt}"


@login_required
@reauthentication_required
@require_GET
def export_json_view(request: HttpRequest) -> HttpResponse:
    # Personal data: a recent sign-in (allauth's reauthentication) is asked for, as for a
    # password change, so an unattended session does not hand it out.
    data = services.account_export(actor=current_user(request), fmt="json")
    response = HttpResponse(export_json(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@reauthentication_required
@require_GET
def export_csv_view(request: HttpRequest) -> HttpResponseBase:
    data = services.account_export(actor=current_user(request), fmt="csv")
    response = csv_response(request, _filename("csv"), CSV_COLUMNS, export_rows(data))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    refusals = services.deletion_refusals(user)
    form = AccountDeleteForm(request.POST or None)
    done = None
    if not refusals:
        done = form_submit(
            form, lambda data: services.account_delete(actor=user, password=data["password"])
        )
    if done is not None:
        logout(request)
        messages.success(request, _("Your account was deleted. Thank you for taking part."))
        return redirect("identity:home")
    status = 409 if refusals and request.method == "POST" else form_status(form)
    return render(
        request, "identity/account_delete.html", {"form": form, "refusals": refusals}, status=status
    )
