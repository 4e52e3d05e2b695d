from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from identity.audit import audit_verify
from identity.errors import Conflict, Gone, PermissionDenied
from identity.models import Municipality, Role
from proposals import services
from proposals.models import Objection, Proposal, Signature, Status
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db


def _later(days: int) -> mock._patch:
    return mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(days=days)
    )


def _sign(town: Municipality, proposal: Proposal, n: int) -> None:
    for _ in range(n):
        services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)


def test_citizen_proposal_from_filing_to_council_answer(
    town: Municipality, django_capture_on_commit_callbacks: object
) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town, threshold_fixed=3),
        author=author,
        collecting=True,
    )
    _sign(town, proposal, 3)
    services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED and proposal.answer_due_on is not None
    council = staff(town, Role.COUNCIL)
    services.review_start(actor=council, municipality=town, proposal_id=proposal.pk)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        services.clarification_request(
            actor=council, municipality=town, proposal_id=proposal.pk, question="予算規模は?"
        )
    assert mail.outbox[-1].to == [author.email] and "予算規模は?" in mail.outbox[-1].body
    services.document_attach(
        actor=council,
        municipality=town,
        proposal_id=proposal.pk,
        title="審議資料",
        file=SimpleUploadedFile("shiryo.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        services.proposal_answer(
            actor=council,
            municipality=town,
            proposal_id=proposal.pk,
            decision="partially_adopted",
            reasons="保育所の増設は来年度予算で一部実施します。",
        )
    proposal.refresh_from_db()
    assert proposal.status == Status.ANSWERED and proposal.answer.decision == "partially_adopted"
    assert [e.status for e in proposal.timeline.all()] == [
        "draft",
        "collecting",
        "threshold_reached",
        "submitted",
        "under_review",
        "under_review",
        "answered",
    ]
    assert any("answered" in m.subject or "回答" in m.subject for m in mail.outbox)
    assert audit_verify() == []


def test_illegal_transitions_and_permissions(town: Municipality) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=author, collecting=True
    )
    council = staff(town, Role.COUNCIL)
    with pytest.raises(Conflict) as error:
        services.proposal_answer(
            actor=council,
            municipality=town,
            proposal_id=proposal.pk,
            decision="adopted",
            reasons="理由を二十文字以上書きます。理由を二十文字以上書きます。",
        )
    assert error.value.code == "illegal_transition"
    with pytest.raises(PermissionDenied):
        services.review_start(actor=author, municipality=town, proposal_id=proposal.pk)
    with pytest.raises(Conflict):  # below the goal the author cannot close early
        services.collection_close_early(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.COLLECTING


def test_expiry_below_the_threshold(
    town: Municipality, django_capture_on_commit_callbacks: object
) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=author, collecting=True
    )
    _sign(town, proposal, 2)
    assert services.collections_close_due() == 0
    with _later(61), django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert services.collections_close_due() == 1
    proposal.refresh_from_db()
    assert proposal.status == Status.EXPIRED
    assert mail.outbox[-1].to == [author.email]


def test_withdrawn_by_author(town: Municipality) -> None:
    author = verified(town)
    proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), author=author, collecting=True
    )
    services.proposal_withdraw(actor=author, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN
    with pytest.raises(Gone) as error:
        services.signature_add(actor=verified(town), municipality=town, proposal_id=proposal.pk)
    assert error.value.code == "collection_closed"


def _direct_demand(town: Municipality) -> tuple[Proposal, object]:
    kind = ProposalTypeFactory(
        municipality=town,
        name="条例制定改廃請求",
        threshold_kind="register_fraction",
        threshold_fixed=None,
        register_size=150,
        collection_days=30,
        committee_size=2,
        certification_required=True,
    )
    author = verified(town)
    draft = services.proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=services.ProposalDraft(title="条例の制定", summary="概要", body="本文"),
    )
    with pytest.raises(Conflict) as error:
        services.collection_open(actor=author, municipality=town, proposal_id=draft.pk)
    assert error.value.code == "committee_required"
    members = [verified(town), verified(town)]
    for member in members:
        services.committee_invite(
            actor=author, municipality=town, proposal_id=draft.pk, email=member.email
        )
    services.committee_accept(actor=members[0], municipality=town, proposal_id=draft.pk)
    with pytest.raises(Conflict):
        services.collection_open(actor=author, municipality=town, proposal_id=draft.pk)
    services.committee_accept(actor=members[1], municipality=town, proposal_id=draft.pk)
    proposal = services.collection_open(actor=author, municipality=town, proposal_id=draft.pk)
    assert proposal.threshold == 3  # ceil(150 / 50)
    return proposal, author


@pytest.mark.parametrize(
    ("invalidate", "outcome"), [(1, Status.SUBMITTED), (2, Status.NOT_CERTIFIED)]
)
def test_direct_demand_certification(town: Municipality, invalidate: int, outcome: str) -> None:
    proposal, _author = _direct_demand(town)
    _sign(town, proposal, 4)
    with _later(31):
        assert services.collections_close_due() == 1
    proposal.refresh_from_db()
    assert proposal.status == Status.CERTIFICATION
    office = staff(town, Role.ELECTION_OFFICE)
    for signature in Signature.objects.filter(proposal=proposal)[:invalidate]:
        services.signature_invalidate(
            actor=office, municipality=town, signature_id=signature.pk, reason="duplicate"
        )
    services.certification_publish(actor=office, municipality=town, proposal_id=proposal.pk)
    resident = verified(town)
    objection = services.objection_file(
        actor=resident, municipality=town, proposal_id=proposal.pk, text="署名の一部が無効です"
    )
    with pytest.raises(Conflict):  # inspection still running
        services.certification_finalize(actor=office, municipality=town, proposal_id=proposal.pk)
    with _later(8), pytest.raises(Conflict) as error:
        services.certification_finalize(actor=office, municipality=town, proposal_id=proposal.pk)
    assert error.value.code == "objections_open"
    services.objection_answer(
        actor=office, municipality=town, objection_id=objection.pk, answer="確認の結果、有効です。"
    )
    with _later(8):
        services.certification_finalize(actor=office, municipality=town, proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == outcome and proposal.certified_count == 4 - invalidate


def test_only_the_electors_concerned_may_object_during_the_inspection(town: Municipality) -> None:
    """Issue 13, point 8 (the permission matrix): any signed-in account could file an objection,
    which the election office must answer before it can finalize the count."""
    proposal, _author = _direct_demand(town)
    _sign(town, proposal, 3)
    with _later(31):
        services.collections_close_due()
    office = staff(town, Role.ELECTION_OFFICE)
    services.certification_publish(actor=office, municipality=town, proposal_id=proposal.pk)
    elsewhere = verified(MunicipalityFactory())
    for outsider, code in ((UserFactory(), "not_verified"), (elsewhere, "not_resident")):
        with pytest.raises(PermissionDenied) as error:
            services.objection_file(
                actor=outsider, municipality=town, proposal_id=proposal.pk, text="異議"
            )
        assert error.value.code == code
    assert not Objection.objects.filter(proposal=proposal).exists()
    services.objection_file(
        actor=verified(town), municipality=town, proposal_id=proposal.pk, text="異議"
    )
    assert Objection.objects.filter(proposal=proposal).count() == 1
