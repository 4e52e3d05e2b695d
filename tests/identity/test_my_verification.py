from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from identity import services
from identity.eligibility import REASONS_WITHOUT_OIDC
from identity.keys import PersonFacts
from identity.models import DocumentType, EndReason, Municipality, Role, User, Verification
from identity.verification_status import verification_status
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db

PAGE = "/m/maebashi/verification/"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["mebuku_language"] = "en"  # assertions below read the English text
    return client


@pytest.fixture
def clerk(maebashi: Municipality) -> User:
    return staff(maebashi, Role.COUNTER_CLERK)


def _years_ago(years: int, extra_days: int = 10) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28)) - timedelta(
        days=extra_days
    )


def _verify(clerk: User, user: User, municipality: Municipality, age: int = 40) -> Verification:
    return services.verification_by_counter(
        actor=clerk,
        municipality=municipality,
        user=user,
        person=PersonFacts("佐藤 花子", _years_ago(age), "大手町2-12-1"),
        document_type=DocumentType.MY_NUMBER_CARD,
    )


def test_needs_sign_in(client: Client, maebashi: Municipality) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_not_verified_offers_the_ways_and_reason(maebashi: Municipality, resident: User) -> None:
    response = client_for(resident).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-status="not_verified"' in body
    assert 'data-reason="not_verified"' in body
    with translation.override("en"):
        # No identity provider here: the reason does not send anyone to a municipal ID.
        assert str(REASONS_WITHOUT_OIDC["not_verified"]) in body
    assert "counter of the city office" in body


def test_verified_shows_method_dates_and_no_personal_data(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    verification = _verify(clerk, resident, maebashi)
    response = client_for(resident).get(PAGE)
    body = response.content.decode()
    assert 'data-status="verified"' in body and 'data-reason="eligible"' in body
    assert "At the counter" in body
    assert (
        verification.expires_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d")
        in body
    )
    assert "大手町" not in body  # address and birthdate stay on the staff side


@pytest.mark.parametrize(
    ("reason", "status", "code"),
    [
        (EndReason.ERROR, "revoked", "verification_revoked"),
        (EndReason.MOVED_OUT, "moved_out", "not_resident"),
    ],
)
def test_ended_verifications(
    maebashi: Municipality, clerk: User, resident: User, reason: str, status: str, code: str
) -> None:
    verification = _verify(clerk, resident, maebashi)
    services.verification_revoke(
        actor=clerk, municipality=maebashi, verification_id=verification.pk, reason=reason
    )
    body = client_for(resident).get(PAGE).content.decode()
    assert f'data-status="{status}"' in body and f'data-reason="{code}"' in body


def test_expired_and_under_age(
    maebashi: Municipality, kamakura: Municipality, clerk: User, resident: User
) -> None:
    verification = _verify(clerk, resident, maebashi)
    later = verification.expires_at + timedelta(seconds=1)
    standing = verification_status(resident, maebashi, later)
    assert (standing.status, standing.eligibility.code) == ("expired", "verification_expired")
    soon = verification_status(resident, maebashi, verification.expires_at - timedelta(days=5))
    assert soon.status == "verified" and soon.renew_soon
    teen = UserFactory()
    _verify(staff(kamakura, Role.COUNTER_CLERK), teen, kamakura, age=16)
    standing = verification_status(teen, kamakura)
    assert (standing.status, standing.eligibility.code) == ("verified", "under_age")


def test_renewed_verification_shows_history(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    _verify(clerk, resident, maebashi)
    _verify(clerk, resident, maebashi)
    response = client_for(resident).get(PAGE)
    assert len(response.context["statuses"][0].history) == 2
    assert "Renewed" in response.content.decode()


def test_site_root_lists_municipalities_with_history(
    maebashi: Municipality, kamakura: Municipality, clerk: User, resident: User
) -> None:
    _verify(clerk, resident, maebashi)
    response = client_for(resident).get("/verification/")
    assert response.status_code == 200
    assert [s.municipality for s in response.context["statuses"]] == [maebashi]
    body = response.content.decode()
    assert 'href="/m/kamakura/verification/"' in body


def test_account_page_links_here(maebashi: Municipality, resident: User) -> None:
    body = client_for(resident).get("/m/maebashi/account/").content.decode()
    assert 'href="/m/maebashi/verification/"' in body


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(PAGE)
    assert response.status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_history(
    maebashi: Municipality, clerk: User, resident: User
) -> None:
    client = client_for(resident)
    client.get(PAGE)
    _verify(clerk, resident, maebashi)
    one = _page_queries(client)
    for _ in range(5):
        _verify(clerk, resident, maebashi)
    six = _page_queries(client)
    assert six == one
    assert six <= 8


def test_next_steps_link_to_the_verification_pages(maebashi: Municipality, resident: User) -> None:
    # The municipal ID only once the municipality has an identity provider (tests/city3).
    services.identity_provider_configure(
        actor=staff(maebashi, Role.ADMINISTRATOR),
        municipality=maebashi,
        name="前橋市ID",
        server_url="https://id.maebashi.example.jp",
        client_id="mebuku",
        secret="secret",
    )
    body = client_for(resident).get(PAGE).content.decode()
    assert 'href="/m/maebashi/verify/oidc/"' in body
    assert 'href="/m/maebashi/verify/register/"' in body
