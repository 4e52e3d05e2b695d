"""One URL configuration for the whole site.

Municipal pages are reached either on the municipality's own host name or under `/m/<slug>/`;
`identity.middleware.MunicipalityMiddleware` strips that prefix and makes it the script prefix, so
these patterns and every `reverse()` work unchanged in both modes.
"""

from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api_urls, not_found
from config.metrics import metrics
from identity.signin import HeadlessAuthenticate

urlpatterns = [
    path("", include("identity.urls")),
    path("proposals/", include("proposals.urls")),
    path("debates/", include("debates.urls")),
    path("elections/", include("voting.urls")),
    path("accounts/", include("allauth.urls")),
    # allauth's headless two-step stage, with the lockout of identity/signin.py in its input.
    path(
        "_allauth/app/v1/auth/2fa/authenticate",
        HeadlessAuthenticate.as_api_view(client="app"),
    ),
    path("_allauth/", include("allauth.headless.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api_urls()),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found),
    path("django-admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]

# Django's 400, but a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413 (JSON on the APIs); allauth
# renders its 429 (rate limits, sign-in lockout) with the handler429 it finds here.
handler400 = "config.errors.bad_request"
handler429 = "config.errors.too_many_requests"
