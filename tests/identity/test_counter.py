from __future__ import annotations

import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from identity import services
from identity.errors import Conflict, NotFound, PermissionDenied
from identity.keys import PersonFacts
from identity.models import (
    AuditEntry,
    DocumentType,
    EndReason,
    Municipality,
    Role,
    User,
    Verification,
    VerificationMethod,
)
from identity.services.counter import is_counter_login
from tests.factories import TARO, UserFactory, logged_in, register_csv, staff

pytestmark = pytest.mark.django_db

BASE = "/m/maebashi/staff/counter/"


@pytest.fixture
def clerk(maebashi: Municipality) -> User:
    return staff(maebashi, Role.COUNTER_CLERK, email="counter@maebashi.example.jp")


def _person(name: str = "佐藤 花子", birth: date = date(1960, 4, 1)) -> PersonFacts:
    return PersonFacts(name=name, birth_date=birth, address="前橋市大手町2-12-1")


def _verify_form(**overrides: str) -> dict[str, str]:
    data = {
        "legal_name": "佐藤 花子",
        "birth_date": "昭和35年4月1日",
        "address": "前橋市大手町二丁目12番1号",
        "document_type": DocumentType.DRIVERS_LICENSE,
        "resident_since": "2001/4/1",
    }
    data.update(overrides)
    return data


def _staff_views() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="verification.staff_view").order_by("id"))


# Verifying ---------------------------------------------------------------------------------------


def test_counter_verify_records_document_type_and_both_date_styles(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    response = logged_in(clerk).post(f"{BASE}people/{resident.pk}/verify/", _verify_form())
    assert response.status_code == 302
    verification = Verification.objects.get(user=resident)
    assert verification.method == VerificationMethod.COUNTER
    assert verification.document_type == DocumentType.DRIVERS_LICENSE
    assert verification.birth_date == date(1960, 4, 1)
    assert verification.resident_since == date(2001, 4, 1)
    assert verification.verified_by == clerk
    entry = AuditEntry.objects.get(action="verification.create")
    assert entry.data == {
        "user": resident.pk,
        "method": "counter",
        "document_type": "drivers_license",
    }


def test_no_document_number_field_exists_anywhere(maebashi: Municipality, clerk: User) -> None:
    fields = {f.name for f in Verification._meta.get_fields()}
    assert not {name for name in fields if "number" in name or name.endswith("_no")}
    body = logged_in(clerk).get(f"{BASE}people/{clerk.pk}/").content.decode()
    # The form on the person page has no input for a document number.
    inputs = set(re.findall(r'name="([a-z_]+)"', body))
    assert not {name for name in inputs if "number" in name}
    other = UserFactory()
    body = logged_in(clerk).get(f"{BASE}people/{other.pk}/").content.decode()
    assert 'name="document_type"' in body
    assert not {n for n in re.findall(r'name="([a-z_]+)"', body) if "number" in n}


@pytest.mark.parametrize(
    "overrides",
    [
        {"birth_date": "1960-02-30"},
        {"birth_date": "平成35年1月1日"},
        {"birth_date": "yesterday"},
        {"birth_date": "2999-01-01"},
        {"document_type": ""},
        {"document_type": "my_number"},
        {"legal_name": ""},
        {"address": ""},
        {"resident_since": "1950-01-01"},
    ],
)
def test_bad_verify_input_changes_nothing(
    maebashi: Municipality, clerk: User, resident: User, overrides: dict[str, str]
) -> None:
    before = (
        Verification.objects.count(),
        AuditEntry.objects.exclude(action="verification.staff_view").count(),
    )
    response = logged_in(clerk).post(
        f"{BASE}people/{resident.pk}/verify/", _verify_form(**overrides)
    )
    assert response.status_code == 422
    assert 'class="error"' in response.content.decode()
    assert (
        Verification.objects.count(),
        AuditEntry.objects.exclude(action="verification.staff_view").count(),
    ) == before


def test_person_verified_with_another_account_is_a_conflict(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    client = logged_in(clerk)
    assert client.post(f"{BASE}people/{resident.pk}/verify/", _verify_form()).status_code == 302
    other = UserFactory()
    response = client.post(f"{BASE}people/{other.pk}/verify/", _verify_form())
    assert response.status_code == 409
    assert not Verification.objects.filter(user=other).exists()


def test_clerk_cannot_verify_themselves(maebashi: Municipality, clerk: User) -> None:
    response = logged_in(clerk).post(f"{BASE}people/{clerk.pk}/verify/", _verify_form())
    assert response.status_code == 403
    assert "another clerk" in response.content.decode() or "別の" in response.content.decode()
    assert not Verification.objects.exists()


# Creating an account and the letter -------------------------------------------------------------


def test_account_without_email_gets_a_generated_login_and_letter_sets_password_once(
    maebashi: Municipality, clerk: User
) -> None:
    client = logged_in(clerk)
    response = client.post(f"{BASE}new/", {"email": "", "display_name": "はなこ"})
    assert response.status_code == 302
    user = User.objects.get(display_name="はなこ")
    assert is_counter_login(user.email) and user.email.endswith("@maebashi.counter.invalid")
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified  # no mail can reach it; it may sign in
    assert response["Location"] == f"{BASE}people/{user.pk}/"
    entry = AuditEntry.objects.get(action="account.create_at_counter")
    assert entry.data == {"user": user.pk, "login": "generated"}
    assert user.email not in str(entry.data)

    letter = client.get(f"{BASE}people/{user.pk}/letter/")
    assert letter.status_code == 200
    body = letter.content.decode()
    assert "<svg" in body and "<script" not in body and "css/letter.css" in body  # print styles
    assert user.email in body
    assert "no-store" in letter["Cache-Control"]
    link = re.search(r"http://testserver(/m/maebashi/accounts/password/reset/key/[^<\s]+/)", body)
    assert link is not None
    assert AuditEntry.objects.filter(action="account.letter_issue", target_id=str(user.pk)).exists()

    resident = Client()
    step = resident.get(link.group(1))
    assert step.status_code == 302  # allauth moves the key into the session
    done = resident.post(
        step["Location"], {"password1": "a-long-new-secret-42", "password2": "a-long-new-secret-42"}
    )
    assert done.status_code == 302, done.content
    user.refresh_from_db()
    assert user.check_password("a-long-new-secret-42")

    again = Client().get(link.group(1))
    assert again.status_code == 200 and again.context["token_fail"]
    user.refresh_from_db()
    assert user.check_password("a-long-new-secret-42")
    assert Client().login(email=user.email, password="a-long-new-secret-42")


def test_account_with_own_email_is_unconfirmed_and_cannot_be_duplicated(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    client = logged_in(clerk)
    response = client.post(f"{BASE}new/", {"email": "Hana@Example.jp", "display_name": ""})
    assert response.status_code == 302
    user = User.objects.get(email="hana@example.jp")
    assert not EmailAddress.objects.get(user=user).verified
    before = User.objects.count()
    duplicate = client.post(f"{BASE}new/", {"email": resident.email.upper(), "display_name": ""})
    assert duplicate.status_code == 422
    reserved = client.post(f"{BASE}new/", {"email": "1@maebashi.counter.invalid"})
    assert reserved.status_code == 422
    assert User.objects.count() == before


def test_no_letter_for_an_account_with_password_and_mailbox(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    services.verification_by_counter(
        actor=clerk,
        municipality=maebashi,
        user=resident,
        person=_person(),
        document_type=DocumentType.PASSPORT,
    )
    response = logged_in(clerk).get(f"{BASE}people/{resident.pk}/letter/")
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="account.letter_issue").exists()
    with pytest.raises(Conflict):
        services.resident_letter_issue(actor=clerk, municipality=maebashi, user_id=resident.pk)


def test_account_creation_needs_the_counter_role(maebashi: Municipality) -> None:
    moderator = staff(maebashi, Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        services.resident_account_create(
            actor=moderator, municipality=maebashi, email="", display_name=""
        )
    assert logged_in(moderator).post(f"{BASE}new/", {"email": ""}).status_code == 403
    assert not User.objects.filter(email__endswith=".invalid").exists()


# Revoking --------------------------------------------------------------------------------------


def test_revoke_from_the_person_page(maebashi: Municipality, clerk: User, resident: User) -> None:
    verification = services.verification_by_counter(
        actor=clerk,
        municipality=maebashi,
        user=resident,
        person=_person(),
        document_type=DocumentType.PASSPORT,
    )
    client = logged_in(clerk)
    page = client.get(f"{BASE}people/{resident.pk}/").content.decode()
    assert f"verifications/{verification.pk}/revoke/" in page
    assert 'value="renewed"' not in page
    bad = client.post(f"{BASE}verifications/{verification.pk}/revoke/", {"reason": "renewed"})
    assert bad.status_code == 302
    verification.refresh_from_db()
    assert verification.ended_at is None
    response = client.post(
        f"{BASE}verifications/{verification.pk}/revoke/",
        {"reason": EndReason.MOVED_OUT, "note": "転出届"},
    )
    assert response.status_code == 302
    verification.refresh_from_db()
    assert verification.end_reason == EndReason.MOVED_OUT and verification.ended_by == clerk
    assert verification.end_note == "転出届"
    assert AuditEntry.objects.filter(action="verification.revoke").count() == 1


# Permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("get", "?q=resident%40example.jp"),
        ("get", "new/"),
        ("get", "people/{user}/"),
        ("post", "people/{user}/verify/"),
        ("get", "people/{user}/letter/"),
        ("post", "verifications/{verification}/revoke/"),
    ],
)
def test_counter_pages_refuse_residents_moderators_and_other_clerks(
    maebashi: Municipality, kamakura: Municipality, clerk: User, method: str, path: str
) -> None:
    target = UserFactory()
    verification = services.verification_by_counter(
        actor=clerk,
        municipality=maebashi,
        user=target,
        person=_person(),
        document_type=DocumentType.PASSPORT,
    )
    url = BASE + path.format(user=target.pk, verification=verification.pk)
    data = {**_verify_form(), "reason": EndReason.ERROR}
    refused = [UserFactory(), staff(maebashi, Role.MODERATOR), staff(kamakura, Role.COUNTER_CLERK)]
    unsecured = staff(maebashi, Role.COUNTER_CLERK, mfa=False)
    before = (Verification.objects.active().count(), AuditEntry.objects.count())
    for user in refused:
        client = logged_in(user)
        response = client.post(url, data) if method == "post" else client.get(url)
        assert response.status_code == 403, (user, response)
        assert 'data-reason="role_required"' in response.content.decode()
    response = (
        logged_in(unsecured).get(url) if method == "get" else logged_in(unsecured).post(url, data)
    )
    assert response.status_code == 302 and "2fa" in response["Location"]
    assert (Verification.objects.active().count(), AuditEntry.objects.count()) == before


def test_other_municipality_clerk_cannot_revoke_through_their_own_pages(
    maebashi: Municipality, kamakura: Municipality, clerk: User, resident: User
) -> None:
    verification = services.verification_by_counter(
        actor=clerk,
        municipality=maebashi,
        user=resident,
        person=_person(),
        document_type=DocumentType.PASSPORT,
    )
    other = staff(kamakura, Role.COUNTER_CLERK)
    response = logged_in(other).post(
        f"/m/kamakura/staff/counter/verifications/{verification.pk}/revoke/",
        {"reason": EndReason.ERROR},
    )
    assert response.status_code == 404
    verification.refresh_from_db()
    assert verification.ended_at is None
    body = logged_in(other).get(f"/m/kamakura/staff/counter/people/{resident.pk}/").content
    assert "佐藤".encode() not in body  # another municipality's history is not shown


# Search and its audit --------------------------------------------------------------------------


def test_search_by_email_login_id_and_name_is_audited_without_the_query(
    maebashi: Municipality, kamakura: Municipality, clerk: User, resident: User
) -> None:
    services.verification_by_counter(
        actor=clerk,
        municipality=maebashi,
        user=resident,
        person=_person(),
        document_type=DocumentType.PASSPORT,
    )
    # Verified under the same name in another municipality: not found from here.
    elsewhere = UserFactory()
    other_clerk = staff(kamakura, Role.COUNTER_CLERK)
    services.verification_by_counter(
        actor=other_clerk,
        municipality=kamakura,
        user=elsewhere,
        person=PersonFacts("佐藤 花子", date(1970, 1, 1), "鎌倉市御成町1-1"),
        document_type=DocumentType.PASSPORT,
    )
    client = logged_in(clerk)
    by_email = client.get(BASE, {"q": resident.email.upper()})
    assert by_email.context["results"] == [resident]
    by_name = client.get(BASE, {"q": "佐藤  花子"})
    assert by_name.context["results"] == [resident]
    assert "1960-04-01" in by_name.content.decode()
    created = services.resident_account_create(
        actor=clerk, municipality=maebashi, email="", display_name=""
    )
    by_login = client.get(BASE, {"q": created.email.split("@")[0]})
    assert by_login.context["results"] == [created]
    assert client.get(BASE, {"q": "nobody@example.jp"}).context["results"] == []
    client.get(BASE)  # the empty form shows nothing and records nothing
    client.get(f"{BASE}people/{resident.pk}/")
    entries = _staff_views()
    assert [(e.data["view"], e.data["query_kind"], e.data["results"]) for e in entries] == [
        ("search", "email", 1),
        ("search", "name", 1),
        ("search", "email", 1),
        ("search", "email", 0),
        ("person", "id", 1),
    ]
    assert all(e.actor_id == clerk.pk and e.municipality_id == maebashi.pk for e in entries)
    assert entries[-1].target_id == str(resident.pk)
    for entry in entries:
        text = str(entry.data)
        assert "佐藤" not in text and "@" not in text and "1960" not in text


def _search_queries(client: Client, query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(BASE, {"q": query})
    assert response.status_code == 200
    return len(captured)


def test_counter_search_query_count_does_not_grow_with_results(
    maebashi: Municipality, clerk: User
) -> None:
    client = logged_in(clerk)
    client.get(BASE)  # warm up: the first request of a session saves it
    for number in range(1, 4):
        user = UserFactory()
        services.verification_by_counter(
            actor=clerk,
            municipality=maebashi,
            user=user,
            person=_person(f"山田 {number}郎", date(1950 + number, 1, 1)),
            document_type=DocumentType.PASSPORT,
        )
    few = _search_queries(client, "山田 1郎")  # one result
    for number in range(4, 12):
        user = UserFactory()
        services.verification_by_counter(
            actor=clerk,
            municipality=maebashi,
            user=user,
            person=_person(f"山田 {number}郎", date(1950 + number, 1, 1)),
            document_type=DocumentType.PASSPORT,
        )
    many = _search_queries(client, "山田")  # eleven results
    assert many == few
    assert many <= 12


# Issue 13, point 1: a counter letter must not take over an account ------------------------------


def _set_password(link: str, password: str) -> None:
    resident = Client()
    step = resident.get(link)
    assert step.status_code == 302  # allauth moves the key into the session
    done = resident.post(step["Location"], {"password1": password, "password2": password})
    assert done.status_code == 302, done.content


def _letter_link(body: str, slug: str = "maebashi") -> str:
    found = re.search(rf"http://testserver(/m/{slug}/accounts/password/reset/key/[^<\s]+/)", body)
    assert found is not None
    return found.group(1)


def test_another_municipality_clerk_cannot_find_or_take_over_a_counter_account(
    maebashi: Municipality, kamakura: Municipality, clerk: User
) -> None:
    """The replay: a 前橋市 clerk creates a counter account and prints a letter; the resident sets
    a password; a 鎌倉市 clerk searches for the login, opens the person page and prints a letter."""
    victim = services.resident_account_create(
        actor=clerk, municipality=maebashi, email="", display_name=""
    )
    letter = logged_in(clerk).get(f"{BASE}people/{victim.pk}/letter/")
    _set_password(_letter_link(letter.content.decode()), "the-residents-own-secret-7")
    attacker = logged_in(staff(kamakura, Role.COUNTER_CLERK))
    kamakura_base = "/m/kamakura/staff/counter/"
    found = attacker.get(kamakura_base, {"q": victim.email.split("@")[0]})
    assert found.status_code == 200 and found.context["results"] == []
    assert attacker.get(kamakura_base, {"q": victim.email}).context["results"] == []
    assert attacker.get(f"{kamakura_base}people/{victim.pk}/").status_code == 404
    assert attacker.get(f"{kamakura_base}people/{victim.pk}/letter/").status_code == 404
    assert (
        attacker.post(
            f"{kamakura_base}people/{victim.pk}/letter/",
            {"present": "on", "document_type": DocumentType.PASSPORT},
        ).status_code
        == 404
    )
    assert (
        attacker.post(f"{kamakura_base}people/{victim.pk}/verify/", _verify_form()).status_code
        == 404
    )
    with pytest.raises(NotFound):
        services.resident_letter_issue(
            actor=staff(kamakura, Role.COUNTER_CLERK),
            municipality=kamakura,
            user_id=victim.pk,
            resident_present_document=DocumentType.PASSPORT,
        )
    victim.refresh_from_db()
    assert victim.check_password("the-residents-own-secret-7")
    assert not AuditEntry.objects.filter(municipality=kamakura, action="account.letter_issue")


def test_a_later_letter_needs_the_resident_present_and_is_audited_as_such(
    maebashi: Municipality, clerk: User
) -> None:
    created = services.resident_account_create(
        actor=clerk, municipality=maebashi, email="", display_name=""
    )
    client = logged_in(clerk)
    assert client.get(f"{BASE}people/{created.pk}/letter/").status_code == 200
    reprint = client.get(f"{BASE}people/{created.pk}/letter/")  # the first letter, lost: again
    assert reprint.status_code == 200
    _set_password(_letter_link(reprint.content.decode()), "the-residents-own-secret-7")
    page = client.get(f"{BASE}people/{created.pk}/").content.decode()
    assert f'href="{BASE}people/{created.pk}/letter/"' not in page
    assert 'name="present"' in page
    refused = client.get(f"{BASE}people/{created.pk}/letter/")
    assert refused.status_code == 302
    unconfirmed = client.post(
        f"{BASE}people/{created.pk}/letter/", {"document_type": DocumentType.PASSPORT}
    )
    assert unconfirmed.status_code == 302
    with pytest.raises(Conflict) as no_resident:
        services.resident_letter_issue(actor=clerk, municipality=maebashi, user_id=created.pk)
    assert no_resident.value.code == "letter_needs_resident"
    letters = AuditEntry.objects.filter(action="account.letter_issue").order_by("id")
    assert [e.data.get("resident_present") for e in letters] == [None, None]
    present = client.post(
        f"{BASE}people/{created.pk}/letter/",
        {"present": "on", "document_type": DocumentType.PASSPORT},
    )
    assert present.status_code == 200 and "no-store" in present["Cache-Control"]
    latest = letters.last()
    assert latest is not None and latest.actor_id == clerk.pk
    assert latest.data == {
        "user": created.pk,
        "resident_present": True,
        "document_type": DocumentType.PASSPORT,
        "by_municipality": maebashi.pk,
    }


def test_a_letter_is_audited_in_every_municipality_the_account_belongs_to(
    maebashi: Municipality, kamakura: Municipality, clerk: User
) -> None:
    created = services.resident_account_create(
        actor=clerk, municipality=maebashi, email="", display_name=""
    )
    office = staff(kamakura, Role.ELECTION_OFFICE)
    services.register_import(
        actor=office,
        municipality=kamakura,
        data=register_csv([TARO]),
        reference_date=date(2025, 4, 1),
        dry_run=False,
    )
    services.verification_by_register(
        user=created,
        municipality=kamakura,
        person=PersonFacts(TARO[1], date(1990, 4, 1), TARO[3]),
    )
    services.resident_letter_issue(actor=clerk, municipality=maebashi, user_id=created.pk)
    entries = AuditEntry.objects.filter(action="account.letter_issue")
    assert {e.municipality_id for e in entries} == {maebashi.pk, kamakura.pk}
    assert {e.chain for e in entries} == {f"m{maebashi.pk}", f"m{kamakura.pk}"}
