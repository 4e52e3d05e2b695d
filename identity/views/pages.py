"""Pages of the identity app. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity import audit_display, permissions, selectors, services
from identity.account_sections import account_sections
from identity.audit import chain_head, chain_of
from identity.decorators import current_municipality, current_user, staff_view
from identity.errors import DomainError
from identity.exports import AUDIT_COLUMNS, csv_response
from identity.form_submit import form_submit
from identity.forms import AuditFilterForm, MunicipalitySettingsForm, ProfileForm, RoleGrantForm
from identity.home_cards import home_cards
from identity.models import AuditEntry, Role


@require_GET
def favicon(request: HttpRequest) -> HttpResponseBase:
    """Browsers and crawlers ask for /favicon.ico whatever the page links; send them to the
    static file (hashed and cached for ever in production)."""
    return redirect(static("favicon.ico"))


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if getattr(request, "municipality", None) is None:
        return render(
            request, "identity/root.html", {"municipalities": selectors.municipalities_public()}
        )
    return render(
        request,
        "identity/home.html",
        {"cards": home_cards(current_municipality(request), timezone.now())},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = ProfileForm(request.POST or None, initial={"display_name": user.display_name})
    saved = form_submit(
        form,
        lambda data: services.profile_update(actor=user, display_name=data["display_name"]),
        error_field="display_name",
    )
    if saved is not None:
        messages.success(request, _("Your profile was saved."))
        return redirect("identity:account")
    return render(
        request,
        "identity/account.html",
        {
            "form": form,
            "roles": selectors.roles_of_user(user),
            "mfa_enabled": is_mfa_enabled(user),
            "account_sections": account_sections(request, user),
        },
    )


@staff_view(permissions.can_open_staff_dashboard)
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    return render(
        request,
        "identity/staff/dashboard.html",
        {
            "role_labels": [
                Role(role).label
                for role in sorted(permissions.roles_held(request.user, municipality))
            ],
            "can_manage_roles": permissions.can_manage_roles(request.user, municipality),
            "can_view_audit": permissions.can_view_audit_log(request.user, municipality),
        },
    )


@staff_view(permissions.can_manage_roles)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = MunicipalitySettingsForm(
        request.POST or None,
        initial={"verification_valid_days": municipality.verification_valid_days},
    )
    saved = form_submit(
        form,
        lambda data: services.municipality_settings_update(
            actor=current_user(request),
            municipality=municipality,
            verification_valid_days=data["verification_valid_days"],
        ),
    )
    if saved is not None:
        messages.success(request, _("The settings were saved."))
        return redirect("identity:settings")
    status = 422 if form.errors else 200
    return render(request, "identity/staff/settings.html", {"form": form}, status=status)


@staff_view(permissions.can_manage_roles)
@require_http_methods(["GET", "POST"])
def roles(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form = RoleGrantForm(request.POST or None)
    granted = form_submit(
        form,
        lambda data: services.role_grant(
            actor=current_user(request),
            municipality=municipality,
            email=data["email"],
            role=data["role"],
        ),
    )
    if granted is not None:
        assignment = granted.value
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": assignment.user.email, "role": assignment.get_role_display()},
        )
        return redirect("identity:roles")
    status = 422 if form.errors else 200
    return render(
        request,
        "identity/staff/roles.html",
        {"form": form, "assignments": selectors.role_assignments_active(municipality)},
        status=status,
    )


@staff_view(permissions.can_manage_roles)
@require_POST
def role_revoke(request: HttpRequest, assignment_id: int) -> HttpResponseBase:
    try:
        assignment = services.role_revoke(
            actor=current_user(request),
            assignment_id=assignment_id,
            municipality=current_municipality(request),
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(user)s no longer holds the role %(role)s.")
            % {"user": assignment.user.email, "role": assignment.get_role_display()},
        )
    return redirect("identity:roles")


def _audit_filters(request: HttpRequest) -> tuple[AuditFilterForm, selectors.AuditFilter]:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, selectors.AuditFilter(**form.cleaned_data)
    return form, selectors.AuditFilter()


@staff_view(permissions.can_view_audit_log)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    form, filters = _audit_filters(request)
    page = Paginator(selectors.audit_entries(municipality, filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "identity/staff/audit.html",
        {
            "form": form,
            "page": page,
            "rows": [
                (
                    entry,
                    audit_display.action_label(entry.action),
                    audit_display.data_pairs(entry.data),
                )
                for entry in page
            ],
            "query": query.urlencode(),
            "head": chain_head(chain_of(municipality)),
            "actions": selectors.audit_actions(municipality),
        },
    )


def _audit_rows(entries: Any) -> Iterator[list[Any]]:
    entry: AuditEntry
    for entry in entries.iterator(chunk_size=2000):
        yield [
            entry.pk,
            entry.created_at,
            entry.municipality.slug if entry.municipality else "",
            entry.actor_id,
            entry.actor.email if entry.actor else "",
            entry.action,
            entry.target_type,
            entry.target_id,
            json.dumps(entry.data, ensure_ascii=False, sort_keys=True),
            entry.seq,
            entry.entry_hash,
            entry.chain_hash,
        ]


@staff_view(permissions.can_view_audit_log)
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponseBase:
    municipality = current_municipality(request)
    _form, filters = _audit_filters(request)
    entries = selectors.audit_entries(municipality, filters).select_related("municipality")
    return csv_response(
        request, f"audit-{municipality.slug}.csv", AUDIT_COLUMNS, _audit_rows(entries)
    )
