"""Django's deployment checks, made to see the natively async middleware of config/middleware.py.

Django's security checks find SecurityMiddleware, CsrfViewMiddleware and XFrameOptionsMiddleware by
their exact dotted path (`"django.middleware.security.SecurityMiddleware" in settings.MIDDLEWARE`)
and skip every setting check that depends on one (HSTS, SSL redirect, nosniff, referrer and opener
policies, X-Frame-Options DENY, the CSRF cookie) when its path is absent. Ours are subclasses at
other paths, so `check --deploy` would warn that they are missing (security.W001–W003, silenced in
settings) and check nothing else. This check runs those same Django checks again with each
subclass's path read as its Django parent's, so they judge the settings as before; a middleware
really missing is reported as mebuku.security.W001–W003.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks.security import base, csrf
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware
from django.test.utils import override_settings
from django.utils.module_loading import import_string

SILENCED = ("security.W001", "security.W002", "security.W003")
DJANGO_CLASSES = (SecurityMiddleware, CsrfViewMiddleware, XFrameOptionsMiddleware)
GATED_CHECKS = (
    base.check_security_middleware,
    base.check_xframe_options_middleware,
    base.check_sts,
    base.check_sts_include_subdomains,
    base.check_sts_preload,
    base.check_content_type_nosniff,
    base.check_ssl_redirect,
    base.check_xframe_deny,
    base.check_referrer_policy,
    base.check_cross_origin_opener_policy,
    csrf.check_csrf_middleware,
    csrf.check_csrf_cookie_secure,
)


def django_path(path: str) -> str:
    """`path`, or the dotted path of the Django middleware it subclasses."""
    cls = import_string(path)
    for parent in DJANGO_CLASSES:
        if isinstance(cls, type) and issubclass(cls, parent):
            return f"{parent.__module__}.{parent.__qualname__}"
    return path


@register(Tags.security, deploy=True)
def middleware_security_settings(
    app_configs: Sequence[Any] | None, **kwargs: Any
) -> list[CheckMessage]:
    with override_settings(MIDDLEWARE=[django_path(p) for p in settings.MIDDLEWARE]):
        found = [message for check in GATED_CHECKS for message in check(app_configs)]
    for message in found:
        if message.id in SILENCED:
            message.id = f"mebuku.{message.id}"
    return found
