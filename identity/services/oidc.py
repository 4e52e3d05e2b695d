"""Configuring a municipality's OpenID Connect identity provider (the resident flow is in
identity.oidc; the verification it ends in is identity.services.verification_by_oidc)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialApp
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity import permissions
from identity.audit import audit_record
from identity.errors import InvalidInput
from identity.models import IdentityProvider, Municipality, User
from identity.models.oidc import PROVIDER, provider_id_for

WELL_KNOWN = "/.well-known/openid-configuration"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _clean_server_url(server_url: str) -> str:
    """The issuer URL (allauth adds the discovery path); https except on this machine."""
    url = server_url.strip().removesuffix(WELL_KNOWN).rstrip("/")
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.hostname or not secure or parts.query or parts.fragment:
        raise InvalidInput(
            _("Enter the identity provider's https:// address (its issuer URL)."),
            code="oidc_server_url",
        )
    return url


@transaction.atomic(durable=True)
def identity_provider_configure(
    *,
    actor: User,
    municipality: Municipality,
    name: str,
    server_url: str,
    client_id: str,
    secret: str,
) -> IdentityProvider:
    """Create or update the municipality's provider; an empty `secret` keeps the current one."""
    permissions.require(permissions.can_manage_identity_provider(actor, municipality))
    name, client_id, secret = name.strip(), client_id.strip(), secret.strip()
    if not name or not client_id:
        raise InvalidInput(
            _("A name and the client ID are required."), code="oidc_incomplete_configuration"
        )
    url = _clean_server_url(server_url)
    current = (
        IdentityProvider.objects.select_for_update()
        .select_related("app")
        .filter(municipality=municipality)
        .first()
    )
    if current is None and not secret:
        raise InvalidInput(
            _("Enter the client secret the identity provider gave you."),
            code="oidc_secret_required",
        )
    app = current.app if current is not None else SocialApp(provider=PROVIDER)
    previous: dict[str, Any] = {
        "name": app.name,
        "server_url": app.settings.get("server_url", ""),
        "client_id": app.client_id,
    }
    app.provider_id = provider_id_for(municipality)
    app.name = name
    app.client_id = client_id
    # Hidden: the app verifies residents of one municipality; it is no sign-in button.
    app.settings = {**app.settings, "server_url": url, "hidden": True}
    secret_changed = bool(secret) and secret != app.secret
    if secret:
        app.secret = secret
    app.full_clean(exclude=["sites"])
    app.save()
    if current is None:
        provider = IdentityProvider.objects.create(
            municipality=municipality, app=app, configured_by=actor
        )
    else:
        provider = current
        provider.configured_by, provider.configured_at = actor, timezone.now()
        provider.save(update_fields=["configured_by", "configured_at"])
    # Never the secret: only whether it changed.
    data: dict[str, Any] = {
        "provider_id": app.provider_id,
        "name": name,
        "server_url": url,
        "client_id": client_id,
        "secret_changed": secret_changed,
    }
    if current is not None:
        data["changed"] = sorted(key for key, value in previous.items() if data[key] != value)
    audit_record(
        actor=actor,
        municipality=municipality,
        action="identity_provider.update" if current is not None else "identity_provider.create",
        target=provider,
        data=data,
    )
    return provider
