"""The demo debates: one per phase, groups in the converge one, idempotent."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from debates import demo, selectors
from debates.models import Conclusion, Debate, OpinionSnapshot, Statement, StatementStatus, Vote
from identity import demo as identity_demo
from identity.audit import audit_verify
from identity.models import AuditEntry, Municipality

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Debate.objects.count(),
        Statement.objects.count(),
        Vote.objects.count(),
        OpinionSnapshot.objects.count(),
        AuditEntry.objects.count(),
    )


def test_demo_debates_cover_every_phase_and_are_idempotent() -> None:
    assert "debates.demo.seed" in settings.MEBUKU_DEMO_SEEDERS
    identity_demo.seed()
    demo.seed()
    counts = _counts()
    demo.seed()
    assert _counts() == counts
    now = timezone.now()
    for municipality in Municipality.objects.all():
        phases = {
            d.question: selectors.debate_detail(municipality, d.pk, now).current
            for d in Debate.objects.filter(municipality=municipality)
        }
        assert {q: p.kind if p else None for q, p in phases.items()} == {
            demo.OPEN_QUESTION: "diverge",
            demo.CONVERGE_QUESTION: "converge",
            demo.CONCLUDED_QUESTION: "conclude",
        }
        converging = Debate.objects.get(municipality=municipality, question=demo.CONVERGE_QUESTION)
        report = selectors.opinion_report(converging)
        assert report is not None and len(report.groups) >= 2 and report.consensus
        assert report.snapshot.participant_count == 20
        assert Statement.objects.filter(debate=converging, status=StatementStatus.PENDING).exists()
        concluded = Debate.objects.get(municipality=municipality, question=demo.CONCLUDED_QUESTION)
        assert Conclusion.objects.filter(debate=concluded).exists()
        opened = Debate.objects.get(municipality=municipality, question=demo.OPEN_QUESTION)
        assert opened.contributions.count() == len(demo.IDEAS)
    assert audit_verify() == []
