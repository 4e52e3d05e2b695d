"""Point 11: signatory personal data is purged after the retention period of the proposal type."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from identity.audit import audit_seal, audit_verify
from identity.models import AuditEntry, Municipality, Role
from proposals import services
from proposals.models import Proposal, Signature, Status
from proposals.tasks import purge_signatory_data
from tests.factories import ProposalFactory, ProposalTypeFactory, staff, verified
from tests.privacy.conftest import facts_of

pytestmark = pytest.mark.django_db


def _ended_with_signatures(town: Municipality, days: int) -> tuple[Proposal, list[int]]:
    kind = ProposalTypeFactory(municipality=town, signatory_retention_days=days)
    proposal = ProposalFactory(type=kind, collecting=True)
    signers = [verified(town) for _ in range(3)]
    for signer in signers[:2]:
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    services.signature_add_offline(
        actor=staff(town, Role.COUNTER_CLERK),
        municipality=town,
        proposal_id=proposal.pk,
        entry=services.OfflineSignature(facts_of(signers[2]), "counter"),
    )
    services.proposal_withdraw(actor=proposal.author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    return proposal, [s.pk for s in signers]


def test_nothing_is_purged_within_the_retention_period(town: Municipality) -> None:
    proposal, _signers = _ended_with_signatures(town, days=30)
    assert services.signatories_purge_due(timezone.now() + timedelta(days=29)) == []
    assert services.signatories_purge(proposal_id=proposal.pk) is None
    assert Signature.objects.filter(proposal=proposal, user__isnull=False).count() == 2


def test_after_the_period_signers_are_unlinked_and_the_count_stays(town: Municipality) -> None:
    proposal, _signers = _ended_with_signatures(town, days=30)
    later = timezone.now() + timedelta(days=31)
    keys = sorted(Signature.objects.filter(proposal=proposal).values_list("person_key", flat=True))
    assert services.signatories_purge_due(later) == [proposal.pk]
    assert services.signatories_purge_all_due(later) == 1

    proposal.refresh_from_db()
    assert proposal.signature_count == 3 and proposal.signatories_purged_at == later
    signatures = Signature.objects.filter(proposal=proposal)
    assert signatures.count() == 3
    assert not signatures.filter(user__isnull=False).exists()
    assert not signatures.filter(verification_id__isnull=False).exists()
    assert sorted(signatures.values_list("person_key", flat=True)) == keys
    entry = AuditEntry.objects.get(action="proposal.signatories_purge")
    assert entry.target_id == str(proposal.pk)
    assert entry.data == {"signatures_unlinked": 3, "retention_days": 30}
    # Idempotent: a second run finds nothing and audits nothing.
    assert services.signatories_purge_all_due(later + timedelta(days=1)) == 0
    assert AuditEntry.objects.filter(action="proposal.signatories_purge").count() == 1
    audit_seal()
    assert audit_verify() == []


def test_the_signatory_list_names_nobody_after_the_purge(town: Municipality) -> None:
    proposal, _signers = _ended_with_signatures(town, days=0)
    office = staff(town, Role.ELECTION_OFFICE)
    client = Client()
    client.force_login(office)
    url = f"/m/{town.slug}/proposals/{proposal.pk}/signatories.csv"
    before = b"".join(client.get(url).streaming_content).decode()
    assert "住民 " in before
    services.signatories_purge(proposal_id=proposal.pk)
    after = b"".join(client.get(url).streaming_content).decode()
    assert "住民 " not in after and after.count("\r\n") == 4  # header and three signatures


def test_running_proposals_are_never_purged(town: Municipality) -> None:
    kind = ProposalTypeFactory(municipality=town, signatory_retention_days=0)
    proposal = ProposalFactory(type=kind, collecting=True)
    services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    assert proposal.status == Status.COLLECTING
    assert services.signatories_purge_due(timezone.now() + timedelta(days=3650)) == []


def test_the_beat_runs_the_purge(town: Municipality) -> None:
    proposal, _signers = _ended_with_signatures(town, days=0)
    entry = settings.CELERY_BEAT_SCHEDULE["proposals-purge-signatory-data"]
    assert entry["task"] == "proposals.tasks.purge_signatory_data"
    assert purge_signatory_data.apply().get() == 1
    proposal.refresh_from_db()
    assert proposal.signatories_purged_at is not None
