"""A municipality's OpenID Connect identity provider (My Number Card / digital-authentication app).

The provider's connection details (server URL, client id and secret) live in allauth's `SocialApp`
of provider "openid_connect", so allauth runs the redirect → code → token → userinfo flow; this
row says which municipality that app belongs to. identity.services.oidc writes both together.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models.accounts import Municipality, User

PROVIDER = "openid_connect"
PROVIDER_ID_PREFIX = "municipal-"


def provider_id_for(municipality: Municipality) -> str:
    """The allauth provider id of a municipality's app; it is part of the callback URL."""
    return f"{PROVIDER_ID_PREFIX}{municipality.slug}"


class IdentityProvider(models.Model):
    municipality = models.OneToOneField(
        Municipality, on_delete=models.PROTECT, related_name="identity_provider"
    )
    app = models.OneToOneField(
        SocialApp, on_delete=models.PROTECT, related_name="municipal_identity_provider"
    )
    configured_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    configured_at = models.DateTimeField(_("configured at"), default=timezone.now)

    class Meta:
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self) -> str:
        return f"{self.municipality} · {self.app.name}"

    @property
    def server_url(self) -> str:
        return str(self.app.settings.get("server_url", ""))
