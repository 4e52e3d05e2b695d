"""`/healthz`: JSON, 200 when every dependency in use answers, 503 otherwise (identity/health.py).
No personal data; never cached."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from identity.health import health_checks


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health_checks()
    failing = any(check.state == "failing" for check in checks.values())
    return JsonResponse(
        {
            "status": "failing" if failing else "ok",
            "checks": {name: asdict(check) for name, check in checks.items()},
        },
        status=503 if failing else 200,
    )
