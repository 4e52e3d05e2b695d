"""allauth's account adapter: its e-mails name the site and the municipality the person was on
(「めぶく（前橋市）」), not the host name the request came to (127.0.0.1:8000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.core import context as allauth_context
from django.http import HttpRequest
from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from identity.signin import LockoutAccountAdapter


@dataclass(frozen=True)
class MailSite:
    """What allauth's e-mail templates read of `current_site`."""

    name: str
    domain: str


def mail_site(request: HttpRequest | None) -> MailSite:
    site = _("Mebuku")
    municipality = getattr(request, "municipality", None)
    name = (
        _("%(site)s (%(municipality)s)") % {"site": site, "municipality": municipality.display_name}
        if municipality is not None
        else site
    )
    domain = request.get_host() if request is not None else ""
    return MailSite(name=name, domain=domain)


class AccountAdapter(LockoutAccountAdapter):
    """The one account adapter: lockout per account and address, and e-mails that name the site."""

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        site = mail_site(allauth_context.request)
        super().send_mail(template_prefix, email, {"current_site": site, **context})

    def format_email_subject(self, subject: str) -> str:
        return f"[{mail_site(allauth_context.request).name}] {force_str(subject)}"
