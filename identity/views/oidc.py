"""Pages of the OpenID Connect verification: the resident's start page and the administrator's
configuration page. The flow itself is allauth's; identity.oidc turns its result into a
verification."""

from __future__ import annotations

import logging

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.utils import build_absolute_uri
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from identity import permissions, selectors, services
from identity.decorators import (
    current_municipality,
    current_user,
    municipality_required,
    staff_view,
)
from identity.form_submit import form_submit
from identity.models import Municipality
from identity.models.oidc import provider_id_for

logger = logging.getLogger(__name__)

SCOPES = "openid profile address"
CLAIMS = ("sub", "name", "birthdate", "address")


class IdentityProviderForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name shown to residents"),
        max_length=40,
        help_text=gettext_lazy("For example “Maebashi ID” or “My Number Card”."),
    )
    server_url = forms.URLField(
        label=gettext_lazy("Issuer URL"),
        max_length=200,
        assume_scheme="https",
        help_text=gettext_lazy(
            "The provider's address; its discovery document is read from "
            "/.well-known/openid-configuration below it."
        ),
    )
    client_id = forms.CharField(label=gettext_lazy("Client ID"), max_length=191)
    secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        max_length=191,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("Leave empty to keep the secret that is saved."),
    )


def _callback_url(request: HttpRequest, municipality: Municipality) -> str:
    """The redirect URI the municipality registers at its provider (the one allauth sends)."""
    path = reverse("openid_connect_callback", kwargs={"provider_id": provider_id_for(municipality)})
    return str(build_absolute_uri(request, path))


@staff_view(permissions.can_manage_identity_provider)
@require_http_methods(["GET", "POST"])
def identity_provider(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    current = selectors.identity_provider_of(municipality)
    initial = (
        {
            "name": current.app.name,
            "server_url": current.server_url,
            "client_id": current.app.client_id,
        }
        if current is not None
        else {}
    )
    form = IdentityProviderForm(request.POST or None, initial=initial)
    saved = form_submit(
        form,
        lambda data: services.identity_provider_configure(
            actor=current_user(request), municipality=municipality, **data
        ),
    )
    if saved is not None:
        messages.success(request, _("The identity provider was saved."))
        return redirect("identity:identity_provider")
    return render(
        request,
        "identity/oidc/identity_provider.html",
        {
            "form": form,
            "current": current,
            "callback_url": _callback_url(request, municipality),
            "scopes": SCOPES,
            "claims": CLAIMS,
        },
        status=422 if form.errors else 200,
    )


@login_required
@municipality_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """What will be shared, and a button that starts allauth's connect flow at the provider."""
    provider = selectors.identity_provider_of(current_municipality(request))
    if provider is None:
        return render(request, "identity/oidc/verify.html", {"provider": None}, status=404)
    if request.method == "POST":
        allauth_provider = get_adapter(request).get_provider(request, provider.app.provider_id)
        try:
            return allauth_provider.redirect(
                request, process=AuthProcess.CONNECT, next_url=reverse("identity:oidc_done")
            )
        except (requests.RequestException, OAuth2Error, ValueError, KeyError) as error:
            # Unreachable, or no usable discovery document: nothing was sent, nothing recorded.
            logger.warning("OIDC provider %s unusable: %r", provider.app.provider_id, error)
            messages.error(
                request,
                _(
                    "The identity provider cannot be reached right now. Please try again later, "
                    "or verify another way."
                ),
            )
            return render(request, "identity/oidc/verify.html", {"provider": provider}, status=502)
    return render(request, "identity/oidc/verify.html", {"provider": provider})


@login_required
@require_GET
def verify_done(request: HttpRequest) -> HttpResponseBase:
    """Where allauth returns after connecting; the adapter has said how it went."""
    try:
        return redirect(reverse("identity:my_verification"))
    except NoReverseMatch:
        return redirect("identity:account")
