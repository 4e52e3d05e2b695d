"""Point 10: a resident downloads their data and deletes their account; legal acts keep effect."""

from __future__ import annotations

import csv
import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import translation

from debates.models import Vote
from identity import services
from identity.audit import audit_seal, audit_verify
from identity.errors import Conflict, InvalidFields
from identity.models import AuditEntry, Municipality, Role, User, Verification
from proposals import services as proposal_services
from proposals.models import Proposal, Signature, Status
from tests.factories import (
    PASSWORD,
    ProposalFactory,
    ProposalTypeFactory,
    enable_totp,
    staff,
    verified,
)
from tests.privacy.conftest import facts_of, reauthenticated

pytestmark = pytest.mark.django_db


def _signed_twice(town: Municipality) -> tuple[User, Proposal, Proposal]:
    """A resident who signed one proposal online and another at the counter."""
    resident = verified(town, email="taro@example.jp", display_name="たろう")
    kind = ProposalTypeFactory(municipality=town, accepts_counter=True)
    online = ProposalFactory(type=kind, collecting=True, title="オンライン提案")
    counter = ProposalFactory(type=kind, collecting=True, title="窓口提案")
    proposal_services.signature_add(actor=resident, municipality=town, proposal_id=online.pk)
    proposal_services.signature_add_offline(
        actor=staff(town, Role.COUNTER_CLERK),
        municipality=town,
        proposal_id=counter.pk,
        entry=proposal_services.OfflineSignature(facts_of(resident), "counter"),
    )
    return resident, online, counter


def test_export_holds_profile_verification_and_signatures_of_every_channel(
    town: Municipality,
) -> None:
    resident, _online, _counter = _signed_twice(town)
    data = services.account_export(actor=resident, fmt="json")
    assert data["profile"][0]["email"] == "taro@example.jp"
    assert data["email_addresses"] == [
        {"email": "taro@example.jp", "verified": True, "primary": True}
    ]
    (verification,) = data["verifications"]
    assert verification["name"] == facts_of(resident).name
    assert verification["address"] == facts_of(resident).address
    by_title = {s["title"]: s["channel"] for s in data["signatures"]}
    assert by_title == {"オンライン提案": "online", "窓口提案": "counter"}
    entry = AuditEntry.objects.get(action="account.export", actor=resident)
    assert entry.data == {"format": "json"}


def test_export_never_holds_a_tracker_alias_or_debate_vote(town: Municipality) -> None:
    resident, _online, _counter = _signed_twice(town)
    text = json.dumps(services.account_data(resident), default=str)
    assert "tracker" not in text and "alias" not in text
    assert not {"debate_votes", "votes", "ballots"} & set(services.account_data(resident))
    assert Vote._meta.db_table  # the model the rule is about exists; its rows are never read


def test_export_pages_ask_for_a_recent_sign_in(town: Municipality) -> None:
    resident, _online, _counter = _signed_twice(town)
    stale = Client()
    stale.force_login(resident)  # signed in, but the password not confirmed lately
    response = stale.get(reverse("identity:account_export_json"))
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not AuditEntry.objects.filter(action="account.export").exists()

    client = reauthenticated(resident)
    response = client.get(reverse("identity:account_export_json"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert json.loads(response.content)["verifications"][0]["name"] == facts_of(resident).name
    response = client.get(reverse("identity:account_export_csv"))
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffsection,row,field,value")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert ["verifications", "1", "name", facts_of(resident).name] in rows
    assert ["signatures", "2", "channel", "counter"] in rows


def test_delete_erases_the_person_and_keeps_the_counts(town: Municipality) -> None:
    resident, online, counter = _signed_twice(town)
    keys_before = set(Signature.objects.values_list("person_key", flat=True))
    services.profile_update(actor=resident, display_name="花子さん")
    counts = services.account_delete(actor=resident, password=PASSWORD)
    assert counts["signatures_unlinked"] == 2 and counts["verifications"] == 1

    for proposal in (online, counter):
        proposal.refresh_from_db()
        assert proposal.signature_count == 1  # exact, unchanged
        assert Signature.objects.filter(proposal=proposal, withdrawn_at__isnull=True).count() == 1
    assert set(Signature.objects.values_list("person_key", flat=True)) == keys_before
    assert not Signature.objects.filter(user=resident).exists()
    assert not Signature.objects.filter(verification_id__isnull=False).exists()

    resident.refresh_from_db()
    assert resident.erased_at is not None and not resident.is_active
    assert "taro" not in resident.email and resident.display_name == ""
    assert not resident.has_usable_password()
    assert not Verification.objects.filter(user=resident).exists()
    assert not EmailAddress.objects.filter(user=resident).exists()
    with translation.override("ja"):
        assert resident.public_name == "退会した利用者"

    assert AuditEntry.objects.filter(action="account.delete", actor=resident).exists()
    # No entry of the whole log (sign-up to deletion, the counter's included) names the person.
    log = json.dumps(list(AuditEntry.objects.values_list("data", flat=True)), ensure_ascii=False)
    facts = facts_of(resident)
    for personal in ("taro", "たろう", "花子さん", facts.name, facts.address, "1980-04-01"):
        assert personal not in log
    audit_seal()
    assert audit_verify() == []


def test_wrong_password_changes_nothing(town: Municipality) -> None:
    resident, _online, _counter = _signed_twice(town)
    with pytest.raises(InvalidFields) as refused:
        services.account_delete(actor=resident, password="not-it")
    assert refused.value.code == "reauthentication_failed"
    resident.refresh_from_db()
    assert resident.erased_at is None and resident.email == "taro@example.jp"
    assert Signature.objects.filter(user=resident).count() == 1
    assert not AuditEntry.objects.filter(action="account.delete").exists()


def test_author_of_a_running_proposal_is_refused_until_it_ends(town: Municipality) -> None:
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    author = proposal.author
    with pytest.raises(Conflict) as refused:
        services.account_delete(actor=author, password=PASSWORD)
    assert refused.value.code == "proposal_running"
    assert Verification.objects.filter(user=author).exists()

    proposal_services.proposal_withdraw(actor=author, municipality=town, proposal_id=proposal.pk)
    services.account_delete(actor=author, password=PASSWORD)
    proposal.refresh_from_db()
    assert proposal.status == Status.WITHDRAWN and proposal.author_id == author.pk
    with translation.override("en"):
        assert proposal.author.public_name == "Former user"


def test_staff_role_is_refused(town: Municipality) -> None:
    clerk = staff(town, Role.MODERATOR)
    with pytest.raises(Conflict) as refused:
        services.account_delete(actor=clerk, password=PASSWORD)
    assert refused.value.code == "role_active"


def test_delete_page_signs_out_and_the_old_session_is_dead(town: Municipality) -> None:
    resident, _online, _counter = _signed_twice(town)
    enable_totp(resident)
    other = Client()
    other.force_login(resident)  # a second device
    client = Client()
    client.force_login(resident)
    page = client.get(reverse("identity:account_delete"))
    assert page.status_code == 200 and b'type="password"' in page.content
    refused = client.post(reverse("identity:account_delete"), {"password": PASSWORD})
    assert refused.status_code == 422  # the confirmation box is required
    response = client.post(
        reverse("identity:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("identity:home")
    for device in (client, other):
        after = device.get(reverse("identity:account"))
        assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    resident.refresh_from_db()
    assert resident.erased_at is not None


def test_delete_page_says_why_it_is_refused(town: Municipality) -> None:
    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    client = Client()
    client.force_login(proposal.author)
    page = client.get(reverse("identity:account_delete"), HTTP_ACCEPT_LANGUAGE="ja")
    assert b'data-refusal="proposal_running"' in page.content
    assert proposal.title in page.content.decode()
    response = client.post(
        reverse("identity:account_delete"), {"password": PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 409
    proposal.author.refresh_from_db()
    assert proposal.author.erased_at is None


def test_the_admin_offers_no_delete_for_accounts() -> None:
    """The ProtectedError is gone by design: accounts are erased, never deleted."""
    from identity.admin import UserAdmin

    assert UserAdmin.has_delete_permission(None, None) is False
