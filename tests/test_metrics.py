"""`/metrics` in Prometheus's text format for the monitoring host only: requests by status,
task failures, and figures read from the database."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.test import Client

from identity.models import Municipality
from proposals import services
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    verified,
)

pytestmark = pytest.mark.django_db


@shared_task
def _fails() -> None:
    raise RuntimeError("boom")


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_for_the_monitoring_host_only() -> None:
    maebashi: Municipality = MunicipalityFactory(slug="maebashi")
    proposal = ProposalFactory(
        municipality=maebashi,
        type=ProposalTypeFactory(municipality=maebashi),
        author=verified(maebashi),
        collecting=True,
    )
    for _ in range(2):
        services.signature_add(
            actor=verified(maebashi), municipality=maebashi, proposal_id=proposal.pk
        )
    client = Client()  # REMOTE_ADDR 127.0.0.1
    client.get("/healthz")
    before = client.get("/metrics").content.decode()
    client.get("/no-such-page/")
    assert _fails.apply(throw=False).failed()  # run as a worker runs it: the failure is counted
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _value(text, "mebuku_signatures") == 2
    assert _value(text, "mebuku_ballots_counted") == 0
    assert _value(text, "mebuku_audit_seal_backlog") >= 0
    assert _value(text, "mebuku_outbox_backlog") >= 0
    not_found = 'mebuku_http_requests_total{method="GET",status_class="4xx"}'
    earlier = _value(before, not_found) if not_found in before else 0
    assert _value(text, not_found) == earlier + 1
    assert f'mebuku_task_failures_total{{task="{_fails.name}"}} 1.0' in text
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
