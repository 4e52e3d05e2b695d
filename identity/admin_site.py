"""The site operator's Django admin: signed in through allauth (rate-limited, two-step
verification), never through the admin's own password form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from identity.permissions import mfa_passed


class OperatorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_staff or user.is_superuser) and bool(mfa_passed(user))

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """allauth's sign-in instead of the admin's form; back to the admin afterwards."""
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(target, reverse("account_login"))
