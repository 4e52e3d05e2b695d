from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from identity.audit import audit_verify
from identity.errors import Conflict, Gone, PermissionDenied
from identity.models import AuditEntry, Municipality
from proposals import services
from proposals.models import Notification, Proposal, Signature, Status, TimelineEvent
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    verified,
)

pytestmark = pytest.mark.django_db


def test_signing_records_facts_not_identity(town: Municipality) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=author, collecting=True
    )
    signer = verified(town, birth=date(2000, 6, 1))
    result = services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    assert result.count == 1 and not result.crossed_threshold
    signature = Signature.objects.get()
    assert signature.channel == "online" and signature.method == "counter"
    assert signature.age_bracket == "20-29" and len(signature.person_key) == 64
    assert AuditEntry.objects.filter(action="signature.add", target_id=str(signature.pk)).exists()
    proposal.refresh_from_db()
    assert proposal.signature_count == 1


def test_signing_twice_is_a_conflict(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    with pytest.raises(Conflict) as error:
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    assert error.value.code == "already_signed"
    proposal.refresh_from_db()
    assert proposal.signature_count == 1 and Signature.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "code"),
    [("unverified", "not_verified"), ("minor", "under_age"), ("other_town", "not_resident")],
)
def test_ineligible_signers_are_told_why(town: Municipality, setup: str, code: str) -> None:
    from tests.factories import MunicipalityFactory

    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    if setup == "unverified":
        signer = UserFactory()
    elif setup == "minor":
        signer = verified(town, birth=timezone.localdate() - timedelta(days=17 * 365))
    else:
        signer = verified(MunicipalityFactory())
    with pytest.raises(PermissionDenied) as error:
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    assert error.value.code == code
    assert Signature.objects.count() == 0


def test_closed_collection_is_gone(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    later = timezone.now() + timedelta(days=61)
    with mock.patch("django.utils.timezone.now", return_value=later), pytest.raises(Gone):
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)


def test_crossing_the_threshold_is_recorded_once_and_mails_once(
    town: Municipality, django_capture_on_commit_callbacks: object
) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=3),
        author=author,
        collecting=True,
    )
    crossings = []
    for _ in range(4):
        signer = verified(town)
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            crossings.append(
                services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
            )
    assert [r.crossed_threshold for r in crossings] == [False, False, True, False]
    proposal.refresh_from_db()
    assert proposal.status == Status.THRESHOLD_REACHED and proposal.signature_count == 4
    assert (
        TimelineEvent.objects.filter(proposal=proposal, status=Status.THRESHOLD_REACHED).count()
        == 1
    )
    assert [m.to for m in mail.outbox] == [[author.email]]
    # A repeated delivery (a relay that died before marking it sent) mails nobody again.
    from proposals.tasks import notify_user

    assert notify_user(proposal.pk, author.pk, "threshold") is False
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_withdrawal(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    assert (
        services.signature_withdraw(actor=signer, municipality=town, proposal_id=proposal.pk) == 0
    )
    # Signing again after withdrawing is allowed: the unique constraint covers live signatures.
    assert (
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk).count == 1
    )
    assert audit_verify() == []


def test_withdrawal_refused_when_the_type_forbids_it(town: Municipality) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, signatures_withdrawable=False),
        author=verified(town),
        collecting=True,
    )
    signer = verified(town)
    services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)
    with pytest.raises(Conflict):
        services.signature_withdraw(actor=signer, municipality=town, proposal_id=proposal.pk)


def test_sign_query_count(town: Municipality, django_assert_max_num_queries: object) -> None:
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=verified(town), collecting=True
    )
    signer = verified(town)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        services.signature_add(actor=signer, municipality=town, proposal_id=proposal.pk)


def test_proposal_fraction_threshold_rounds_up(town: Municipality) -> None:
    demand = ProposalTypeFactory(
        municipality=town,
        name="条例制定改廃請求",
        threshold_kind="register_fraction",
        threshold_fixed=None,
        register_size=272_501,
        collection_days=30,
    )
    assert demand.threshold() == 5451  # ceil(272501 / 50)
    demand.register_size = None
    assert demand.threshold() is None
    assert Proposal.objects.count() == 0
