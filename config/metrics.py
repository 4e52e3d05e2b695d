"""Prometheus metrics at `/metrics`, for the operator's monitoring only (loopback and the
addresses in MEBUKU_METRICS_ALLOWED_IPS; everyone else gets 404).

Counted as they happen: HTTP requests by method and status class, Celery task failures by task.
Read from the database when scraped: signatures and ballots counted, the audit entries waiting
for their seal, the outbox messages not yet delivered. With several processes (uvicorn workers,
Celery workers) set PROMETHEUS_MULTIPROC_DIR to a directory they share: prometheus_client then
adds up every process's counters (its documented multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from config.around import AroundMiddleware

HTTP_REQUESTS = Counter(
    "mebuku_http_requests", "HTTP requests answered", ["method", "status_class"]
)
TASK_FAILURES = Counter("mebuku_task_failures", "Celery tasks that raised", ["task"])


class DatabaseCollector(Collector):
    """Figures read when scraped (a few indexed aggregates)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from identity.audit import audit_seal_backlog
        from identity.outbox import outbox_backlog
        from proposals.models import Proposal
        from voting.models import Ballot, BallotKind

        signatures = Proposal.objects.aggregate(n=Sum("signature_count"))["n"] or 0
        yield GaugeMetricFamily(
            "mebuku_signatures", "Signatures counted on all proposals", value=signatures
        )
        ballots = Ballot.objects.filter(kind=BallotKind.CAST, superseded=False).count()
        yield GaugeMetricFamily("mebuku_ballots_counted", "Cast ballots counted", value=ballots)
        yield GaugeMetricFamily(
            "mebuku_audit_seal_backlog",
            "Audit entries waiting for their seal",
            value=audit_seal_backlog(older_than_seconds=0),
        )
        yield GaugeMetricFamily(
            "mebuku_outbox_backlog",
            "Outbox messages not yet delivered",
            value=outbox_backlog(),
        )


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(HTTP_REQUESTS)
        registry.register(TASK_FAILURES)
    registry.register(DatabaseCollector())
    return registry


def metrics(request: HttpRequest) -> HttpResponse:
    if request.META.get("REMOTE_ADDR") not in settings.METRICS_ALLOWED_IPS:
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware(AroundMiddleware):
    def after(self, request: HttpRequest, response: HttpResponseBase) -> None:
        HTTP_REQUESTS.labels(request.method or "-", f"{response.status_code // 100}xx").inc()


def task_failed(sender: Any = None, **kwargs: Any) -> None:
    """Celery's task_failure signal (connected in config/celery.py)."""
    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()
