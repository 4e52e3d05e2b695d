"""The open data page of a municipality and the zip of all its public downloads."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from identity import opendata
from identity.decorators import current_municipality, municipality_required


def _licence_url() -> str:
    return opendata.LICENCE_URLS.get(translation.get_language() or "", opendata.LICENCE_URLS["en"])


@municipality_required
@require_GET
def open_data(request: HttpRequest) -> HttpResponse:
    municipality = current_municipality(request)
    return render(
        request,
        "identity/opendata.html",
        {
            "listings": opendata.open_data(municipality),
            "licence_name": opendata.LICENCE_NAME,
            "licence_url": _licence_url(),
        },
    )


@municipality_required
@require_GET
def open_data_zip(request: HttpRequest) -> StreamingHttpResponse:
    """Every public download in one zip, streamed as it is written, with a README (licence and
    columns, in Japanese and English)."""
    municipality = current_municipality(request)
    listings = opendata.open_data(municipality)
    now = timezone.now()
    readme = []
    for language in ("ja", "en"):
        with translation.override(language):
            readme.append(
                render_to_string(
                    "identity/opendata_readme.txt",
                    {
                        "municipality": municipality,
                        "listings": listings,
                        "licence_name": opendata.LICENCE_NAME,
                        "licence_url": opendata.LICENCE_URLS[language],
                        "made_at": timezone.localtime(now),
                    },
                )
            )
    chunks = opendata.zip_chunks(
        [("README.txt", "\n\n".join(readme).replace("\n", "\r\n").encode())],
        (file for listing in listings for file in listing.files),
        at=now,
    )
    response = StreamingHttpResponse(
        opendata.async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks,
        content_type="application/zip",
    )
    filename = f"opendata-{municipality.slug}-{timezone.localdate(now).isoformat()}.zip"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
