"""Issue 15, defect 3: a resident invited to a 条例 petition's promoters' committee is told by
e-mail and finds the invitation under My account, where they accept or decline it (no script)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from identity.errors import Conflict, PermissionDenied
from identity.models import AuditEntry, Municipality, OutboxMessage, User
from identity.outbox import outbox_relay
from proposals import services
from proposals.models import CommitteeMember, InvitationState, Proposal, Status
from tests.factories import (
    MunicipalityFactory,
    ProposalTypeFactory,
    UserFactory,
    logged_in,
    verified,
)

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/proposals/"


def _draft(town: Municipality, author: User, size: int = 2) -> Proposal:
    kind = ProposalTypeFactory(municipality=town, name="条例制定改廃請求", committee_size=size)
    return services.proposal_file(
        actor=author,
        municipality=town,
        type_id=kind.pk,
        draft=services.ProposalDraft(title="ごみ処理手数料条例の改正", summary="概要", body="本文"),
    )


def _forms(page: str) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]*/committee/(?:accept|decline)/)"', page)


def test_the_invitee_is_mailed_and_answers_under_my_account(
    town: Municipality, django_capture_on_commit_callbacks: object
) -> None:
    author = verified(town, display_name="山田 花子")
    draft = _draft(town, author)
    first, second = verified(town), verified(town)
    client = logged_in(author)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        for person in (first, second):
            response = client.post(f"{BASE}{draft.pk}/committee/invite/", {"email": person.email})
            assert response.status_code == 302

    # One e-mail each, in Japanese, naming the proposal and the author by public name only.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])
    invitation = next(m for m in mail.outbox if m.to == [first.email])
    assert "ごみ処理手数料条例の改正" in invitation.subject
    assert "山田 花子" in invitation.body and "マイアカウント" in invitation.body
    assert author.email not in invitation.body
    outbox_relay()  # a repeated relay mails nobody twice
    assert len(mail.outbox) == 2

    # My account lists the invitation with accept and decline forms.
    invitee = logged_in(first)
    page = invitee.get("/m/maebashi/account/").content.decode()
    assert "ごみ処理手数料条例の改正" in page
    accept, decline = _forms(page)
    assert accept == f"{BASE}{draft.pk}/committee/accept/"
    assert decline == f"{BASE}{draft.pk}/committee/decline/"
    response = invitee.post(accept, {"next": "/m/maebashi/account/"})
    assert response.status_code == 302 and response["Location"] == "/m/maebashi/account/"
    assert CommitteeMember.objects.get(user=first).state == InvitationState.ACCEPTED
    page = invitee.get("/m/maebashi/account/").content.decode()
    assert _forms(page) == [] and "ごみ処理手数料条例の改正" not in page

    # The second declines from the site root's account page (no municipality in the path).
    other = logged_in(second)
    page = other.get("/account/").content.decode()
    assert _forms(page)[1] == decline
    response = other.post(decline, {"next": "https://evil.example/"})
    assert response["Location"] == f"{BASE}{draft.pk}/"  # never off-site
    member = CommitteeMember.objects.get(user=second)
    assert member.state == InvitationState.DECLINED and member.declined_at is not None
    assert "ごみ処理手数料条例の改正" not in other.get("/account/").content.decode()
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("id"))
    assert actions.count("proposal.committee_accept") == 1
    assert actions.count("proposal.committee_decline") == 1

    # Declined is final: the author cannot invite the same person to this proposal again.
    again = client.post(f"{BASE}{draft.pk}/committee/invite/", {"email": second.email})
    assert again.status_code == 422
    assert CommitteeMember.objects.filter(user=second).count() == 1
    # And a declined invitation cannot be accepted after all.
    other.post(accept)
    assert CommitteeMember.objects.get(user=second).state == InvitationState.DECLINED


def test_answers_are_checked(town: Municipality) -> None:
    author = verified(town)
    draft = _draft(town, author, size=1)
    member, stranger = verified(town), verified(town)
    services.committee_invite(
        actor=author, municipality=town, proposal_id=draft.pk, email=member.email
    )
    with pytest.raises(PermissionDenied):
        services.committee_decline(actor=stranger, municipality=town, proposal_id=draft.pk)
    services.committee_accept(actor=member, municipality=town, proposal_id=draft.pk)
    services.committee_accept(actor=member, municipality=town, proposal_id=draft.pk)  # twice: once
    with pytest.raises(Conflict) as error:
        services.committee_decline(actor=member, municipality=town, proposal_id=draft.pk)
    assert error.value.code == "invitation_accepted"
    assert AuditEntry.objects.filter(action="proposal.committee_accept").count() == 1
    services.collection_open(actor=author, municipality=town, proposal_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == Status.COLLECTING


def test_an_invitation_answered_before_its_mail_goes_out_sends_none(town: Municipality) -> None:
    author = verified(town)
    draft = _draft(town, author)
    member = verified(town)
    services.committee_invite(
        actor=author, municipality=town, proposal_id=draft.pk, email=member.email
    )
    services.committee_decline(actor=member, municipality=town, proposal_id=draft.pk)
    outbox_relay()
    assert mail.outbox == []
    assert OutboxMessage.objects.filter(kind="proposals.committee_invitation").count() == 1


def test_no_section_without_invitations(town: Municipality) -> None:
    page = logged_in(UserFactory()).get("/account/").content.decode()
    assert "invitations-heading" not in page
    # Nor for an invitation of another municipality's proposal that has since opened.
    elsewhere = MunicipalityFactory(slug="kamakura")
    author = verified(elsewhere)
    draft = _draft(elsewhere, author, size=1)
    member = verified(elsewhere)
    services.committee_invite(
        actor=author, municipality=elsewhere, proposal_id=draft.pk, email=member.email
    )
    assert "invitations-heading" in logged_in(member).get("/account/").content.decode()
    services.proposal_withdraw(actor=author, municipality=elsewhere, proposal_id=draft.pk)
    assert "invitations-heading" not in logged_in(member).get("/account/").content.decode()
