"""One URL configuration for the whole site.

Municipal pages are reached either on the municipality's own host name or under `/m/<slug>/`;
`identity.middleware.MunicipalityMiddleware` strips that prefix and makes it the script prefix, so
these patterns and every `reverse()` work unchanged in both modes.
"""

from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api_urls, not_found
from config.metrics import metrics

urlpatterns = [
    path("", include("identity.urls")),
    path("proposals/", include("proposals.urls")),
    path("debates/", include("debates.urls")),
    path("elections/", include("voting.urls")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api_urls()),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found),
    path("django-admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]
