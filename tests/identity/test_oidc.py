"""Verification through the municipality's OpenID Connect provider, against a real provider.

The provider (node-oidc-provider, tests/oidc/) runs as its own process; the resident's browser at
it is urllib (tests/oidc_provider.py); our side is the Django test client. Every step is the real
one: our start page → allauth's redirect (state, PKCE) → the provider's login and consent → its
redirect to our callback → allauth exchanges the code at the token endpoint and calls userinfo.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client

from identity.keys import PersonFacts, identity_hash
from identity.models import (
    AuditEntry,
    IdentityProvider,
    Municipality,
    Role,
    User,
    Verification,
    VerificationMethod,
)
from identity.oidc import failure_kind, person_from_claims
from identity.services import identity_provider_configure
from tests.factories import UserFactory, staff
from tests.oidc_provider import (
    Client as OidcClient,
)
from tests.oidc_provider import (
    OidcProvider,
    free_port,
    needs_provider,
    sign_in,
    start_provider,
)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/m/{slug}/accounts/oidc/municipal-{slug}/login/callback/"
MAEBASHI = OidcClient("maebashi-mebuku", "maebashi-secret", CALLBACK.format(slug="maebashi"))
# Kamakura's client gets codes that expire after one second.
KAMAKURA = OidcClient(
    "kamakura-mebuku", "kamakura-secret", CALLBACK.format(slug="kamakura"), code_ttl=1
)
TARO_ADDRESS = "群馬県前橋市大手町二丁目12番1号"
ACCOUNTS = {
    "taro": {
        "name": "前橋 太郎",
        "birthdate": "1980-04-01",
        "address": {"formatted": TARO_ADDRESS, "region": "群馬県", "locality": "前橋市"},
    },
    # Another subject for the same person (the address written another way).
    "taro-again": {
        "name": "前橋太郎",
        "birthdate": "1980-04-01",
        "address": {"formatted": "前橋市大手町2-12-1"},
    },
    "no-birthdate": {"name": "前橋 次郎", "address": {"formatted": "前橋市大手町1-1"}},
}


@pytest.fixture(scope="session")
def idp() -> Iterator[OidcProvider]:
    provider = start_provider([MAEBASHI, KAMAKURA], ACCOUNTS)
    yield provider
    provider.stop()


def configure(
    admin: User, municipality: Municipality, issuer: str, client: OidcClient
) -> IdentityProvider:
    return identity_provider_configure(
        actor=admin,
        municipality=municipality,
        name=f"{municipality.name}ID",
        server_url=issuer,
        client_id=client.client_id,
        secret=client.client_secret,
    )


@pytest.fixture
def maebashi_idp(idp: OidcProvider, admin: User, maebashi: Municipality) -> IdentityProvider:
    return configure(admin, maebashi, idp.issuer, MAEBASHI)


def browser(user: User | None = None) -> Client:
    client = Client()
    client.cookies["mebuku_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def start(client: Client, idp: OidcProvider, slug: str = "maebashi") -> str:
    response = client.post(f"/m/{slug}/verify/oidc/")
    assert response.status_code == 302, response.content.decode()
    assert response["Location"].startswith(f"{idp.issuer}/auth?")
    return str(response["Location"])


def finish(client: Client, callback_url: str) -> HttpResponse:
    """Give the provider's redirect to our side, as the resident's browser would."""
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver", callback_url
    return client.get(f"{parts.path}?{parts.query}")


def recorded() -> tuple[int, int, int]:
    return (
        Verification.objects.count(),
        AuditEntry.objects.filter(action__startswith="verification.").count(),
        SocialAccount.objects.count(),
    )


def verify(client: Client, idp: OidcProvider, login: str) -> HttpResponse:
    return finish(client, sign_in(start(client, idp), login))


def page_after(client: Client, response: HttpResponse) -> str:
    """Follow one redirect to our verification page and return what it says."""
    assert response.status_code == 302
    assert response["Location"] == "/m/maebashi/verify/oidc/"
    return client.get(response["Location"]).content.decode()


# The real flow ---------------------------------------------------------------------------------


@needs_provider
def test_resident_verifies_through_the_provider(
    idp: OidcProvider, maebashi_idp: IdentityProvider, maebashi: Municipality, resident: User
) -> None:
    client = browser(resident)
    page = client.get("/m/maebashi/verify/oidc/")
    assert page.status_code == 200
    assert "前橋市ID" in page.content.decode() and "<script" not in page.content.decode()

    authorize = start(client, idp)
    query = parse_qs(urlsplit(authorize).query)
    assert set(query["scope"][0].split()) == {"openid", "profile", "address"}
    assert query["redirect_uri"] == [MAEBASHI.redirect_uri]
    assert query["code_challenge_method"] == ["S256"]
    callback = sign_in(authorize, "taro")
    assert callback.startswith(MAEBASHI.redirect_uri)
    response = finish(client, callback)

    assert response.status_code == 302
    assert response["Location"] == "/m/maebashi/verify/oidc/done/"
    verification = Verification.objects.get(user=resident, municipality=maebashi)
    assert verification.method == VerificationMethod.OIDC
    assert verification.legal_name == "前橋 太郎"
    assert verification.birth_date == date(1980, 4, 1)
    assert verification.address == TARO_ADDRESS
    assert verification.identity_hash == identity_hash("oidc", f"{idp.issuer}|taro")
    assert verification.expires_at == verification.verified_at + timedelta(
        days=maebashi.verification_valid_days
    )
    entry = AuditEntry.objects.get(action="verification.create")
    assert entry.actor == resident and entry.target_id == str(verification.pk)
    assert entry.data == {"user": resident.pk, "method": "oidc"}
    account = SocialAccount.objects.get(user=resident)
    assert (account.provider, account.uid) == ("municipal-maebashi", "taro")
    # Names, birthdates and addresses live only in the verification.
    assert account.extra_data == {"id_token": {"iss": idp.issuer, "sub": "taro"}}

    done = client.get(response["Location"])
    assert done.status_code == 302
    assert done["Location"] in {"/m/maebashi/verification/", "/m/maebashi/account/"}
    notes = [str(message) for message in get_messages(done.wsgi_request)]
    assert len(notes) == 1 and "You are now a verified resident of Maebashi" in notes[0]


@needs_provider
def test_verifying_again_renews(
    idp: OidcProvider, maebashi_idp: IdentityProvider, resident: User
) -> None:
    client = browser(resident)
    verify(client, idp, "taro")
    first = Verification.objects.get()
    assert verify(client, idp, "taro")["Location"] == "/m/maebashi/verify/oidc/done/"
    first.refresh_from_db()
    assert first.end_reason == "renewed"
    assert Verification.objects.active().get().renews == first
    assert SocialAccount.objects.count() == 1


@needs_provider
def test_tampered_state_is_refused(
    idp: OidcProvider, maebashi_idp: IdentityProvider, resident: User
) -> None:
    client = browser(resident)
    callback = sign_in(start(client, idp), "taro")
    before = recorded()
    response = finish(client, callback.replace("state=", "state=forged", 1))
    assert response.status_code == 401
    body = response.content.decode()
    assert 'data-failure="state"' in body and "This sign-in link is not valid any more" in body
    assert 'href="/m/maebashi/verify/oidc/"' in body
    assert recorded() == before


@needs_provider
def test_expired_code_is_refused(idp: OidcProvider, kamakura: Municipality, resident: User) -> None:
    configure(staff(kamakura, Role.ADMINISTRATOR), kamakura, idp.issuer, KAMAKURA)
    client = browser(resident)
    callback = sign_in(start(client, idp, "kamakura"), "taro")
    time.sleep(2.1)  # the code lives one second at this client
    response = finish(client, callback)
    assert response.status_code == 401
    assert 'data-failure="rejected"' in response.content.decode()
    assert recorded() == (0, 0, 0)


@needs_provider
def test_provider_down_at_the_start(
    admin: User, maebashi: Municipality, resident: User, idp: OidcProvider
) -> None:
    configure(admin, maebashi, f"http://127.0.0.1:{free_port()}", MAEBASHI)
    response = browser(resident).post("/m/maebashi/verify/oidc/")
    assert response.status_code == 502
    assert "The identity provider cannot be reached right now" in response.content.decode()
    assert recorded() == (0, 0, 0)


@needs_provider
def test_provider_down_after_sign_in(
    idp: OidcProvider, admin: User, maebashi: Municipality, resident: User
) -> None:
    own = start_provider([MAEBASHI], ACCOUNTS)
    try:
        configure(admin, maebashi, own.issuer, MAEBASHI)
        client = browser(resident)
        callback = sign_in(start(client, own), "taro")
    finally:
        own.stop()
    response = finish(client, callback)
    assert response.status_code == 401
    body = response.content.decode()
    assert 'data-failure="unreachable"' in body and "could not be reached" in body
    assert recorded() == (0, 0, 0)


@needs_provider
def test_subject_of_another_account_is_refused(
    idp: OidcProvider, maebashi_idp: IdentityProvider, resident: User
) -> None:
    verify(browser(resident), idp, "taro")
    before = recorded()
    other = UserFactory()
    client = browser(other)
    body = page_after(client, verify(client, idp, "taro"))
    assert "This identity is already linked to another Mebuku account" in body
    assert recorded() == before
    assert not Verification.objects.filter(user=other).exists()
    account = SocialAccount.objects.get()
    assert account.user == resident and set(account.extra_data) == {"id_token"}


@needs_provider
def test_person_verified_with_another_account_is_refused(
    idp: OidcProvider, maebashi_idp: IdentityProvider, resident: User
) -> None:
    verify(browser(resident), idp, "taro")
    before = recorded()
    client = browser(UserFactory())
    body = page_after(client, verify(client, idp, "taro-again"))
    assert "This person is already verified with another account" in body
    assert recorded() == before


@needs_provider
def test_missing_birthdate_is_refused(
    idp: OidcProvider, maebashi_idp: IdentityProvider, resident: User
) -> None:
    client = browser(resident)
    body = page_after(client, verify(client, idp, "no-birthdate"))
    assert "did not share your name, date of birth and address" in body
    assert recorded() == (0, 0, 0)


@needs_provider
def test_signing_in_with_the_provider_is_not_offered(
    idp: OidcProvider, maebashi_idp: IdentityProvider
) -> None:
    """The provider verifies accounts; it neither signs in nor signs up."""
    client = browser()
    assert "municipal-maebashi" not in client.get("/m/maebashi/accounts/login/").content.decode()
    response = client.post(
        "/m/maebashi/accounts/oidc/municipal-maebashi/login/", {"process": "login"}
    )
    callback = sign_in(str(response["Location"]), "taro")
    response = finish(client, callback)
    assert response.status_code == 302
    assert response["Location"].startswith("/m/maebashi/accounts/login/")
    assert recorded() == (0, 0, 0)
    assert User.objects.count() == 1  # the administrator


def test_verify_page_without_a_provider(maebashi: Municipality, resident: User) -> None:
    response = browser(resident).get("/m/maebashi/verify/oidc/")
    assert response.status_code == 404
    assert "does not offer verification with an identity service" in response.content.decode()


def test_verify_page_needs_sign_in(maebashi: Municipality) -> None:
    response = browser().get("/m/maebashi/verify/oidc/")
    assert response.status_code == 302
    assert response["Location"].startswith("/m/maebashi/accounts/login/")


# Claims ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (
            {"name": "前橋 太郎", "birthdate": "1980-04-01", "address": {"formatted": "前橋市1"}},
            PersonFacts("前橋 太郎", date(1980, 4, 1), "前橋市1"),
        ),
        (
            {"name": "前橋 太郎", "birthdate": "昭和55年4月1日", "address": "前橋市大手町2-12-1"},
            PersonFacts("前橋 太郎", date(1980, 4, 1), "前橋市大手町2-12-1"),
        ),
        (
            {
                "family_name": "前橋",
                "given_name": "太郎",
                "birthdate": "1980/4/1",
                "address": {"region": "群馬県", "locality": "前橋市", "street_address": "大手町1"},
            },
            PersonFacts("前橋 太郎", date(1980, 4, 1), "群馬県前橋市大手町1"),
        ),
    ],
)
def test_person_from_claims(claims: dict[str, object], expected: PersonFacts) -> None:
    assert person_from_claims(claims) == expected


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"name": "太郎", "address": "前橋市"}, "oidc_missing_claims"),
        ({"name": "太郎", "birthdate": "1980-04-01", "address": {}}, "oidc_missing_claims"),
        ({"name": " ", "birthdate": "1980-04-01", "address": "前橋市"}, "oidc_missing_claims"),
        ({"name": "太郎", "birthdate": "0000-04-01", "address": "前橋市"}, "oidc_bad_birthdate"),
        ({"name": "太郎", "birthdate": 1980, "address": "前橋市"}, "oidc_missing_claims"),
    ],
)
def test_person_from_bad_claims(claims: dict[str, object], code: str) -> None:
    from identity.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        person_from_claims(claims)
    assert refused.value.code == code


def test_failure_kind() -> None:
    import requests
    from allauth.socialaccount.providers.oauth2.client import OAuth2Error

    assert failure_kind(requests.ConnectionError(), {"state": {}}) == "unreachable"
    assert failure_kind(OAuth2Error("invalid_grant"), {"state": {}}) == "rejected"
    assert failure_kind(None, {"state_id": "forged"}) == "state"
    assert failure_kind(None, {"state": {}}) == "unknown"


# The administrator's page ------------------------------------------------------------------------

PAGE = "/m/maebashi/staff/identity-provider/"
FORM = {
    "name": "前橋市ID",
    "server_url": "https://id.city.maebashi.example.jp/",
    "client_id": "mebuku",
    "secret": "s3cret-value",
}


def test_administrator_sets_up_the_provider(admin: User, maebashi: Municipality) -> None:
    client = browser(admin)
    page = client.get(PAGE).content.decode()
    assert MAEBASHI.redirect_uri in page and "openid profile address" in page

    response = client.post(PAGE, FORM)
    assert response.status_code == 302
    app = SocialApp.objects.get()
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect",
        "municipal-maebashi",
        "mebuku",
        "s3cret-value",
    )
    assert app.settings == {"server_url": "https://id.city.maebashi.example.jp", "hidden": True}
    assert IdentityProvider.objects.get().municipality == maebashi
    entry = AuditEntry.objects.get(action="identity_provider.create")
    assert entry.actor == admin and entry.data["secret_changed"] is True
    assert "s3cret-value" not in json.dumps(entry.data)

    # An empty secret keeps the saved one.
    response = client.post(PAGE, {**FORM, "client_id": "mebuku-2", "secret": ""})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.client_id, app.secret) == ("mebuku-2", "s3cret-value")
    entry = AuditEntry.objects.get(action="identity_provider.update")
    assert entry.data["changed"] == ["client_id"] and entry.data["secret_changed"] is False
    assert SocialApp.objects.count() == 1 and IdentityProvider.objects.count() == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**FORM, "secret": ""}, "Enter the client secret"),
        ({**FORM, "server_url": "http://id.example.jp"}, "https:// address"),
    ],
)
def test_administrator_form_errors(
    admin: User, maebashi: Municipality, form: dict[str, str], message: str
) -> None:
    response = browser(admin).post(PAGE, form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert (
        not SocialApp.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="identity_provider.").exists()
    )


def test_only_administrators_configure(maebashi: Municipality, resident: User) -> None:
    clerk = staff(maebashi, Role.COUNTER_CLERK)
    for user in (resident, clerk):
        assert browser(user).get(PAGE).status_code == 403
        assert browser(user).post(PAGE, FORM).status_code == 403
    assert not SocialApp.objects.exists()
