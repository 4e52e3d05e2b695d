"""Issue 15, defect 1: the municipal ID is offered, and named in refusals, only where the
municipality has an identity provider; the demo registers its own provider for both towns."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from identity import demo_idp
from identity.eligibility import EligibilityRule, eligibility
from identity.models import IdentityProvider, Municipality, Role, User
from identity.services import identity_provider_configure
from proposals.models import Signature
from tests.city3.conftest import logged_in
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    staff,
)

pytestmark = pytest.mark.django_db

MUNICIPAL_ID = "自治体ID"


def _with_provider(town: Municipality) -> None:
    identity_provider_configure(
        actor=staff(town, Role.ADMINISTRATOR),
        municipality=town,
        name="前橋市ID",
        server_url="https://id.maebashi.example.jp",
        client_id="mebuku",
        secret="secret",
    )


def _verification_page(user: User) -> str:
    return logged_in(user).get("/m/maebashi/verification/").content.decode()


def test_without_a_provider_the_municipal_id_is_neither_offered_nor_named(
    town: Municipality,
) -> None:
    person = UserFactory()
    page = _verification_page(person)
    assert 'data-status="not_verified"' in page
    assert "/verify/oidc/" not in page and MUNICIPAL_ID not in page
    assert "住民基本台帳との照合" in page  # the other ways are still offered

    proposal = ProposalFactory(type=ProposalTypeFactory(municipality=town), collecting=True)
    detail = logged_in(person).get(f"/m/maebashi/proposals/{proposal.pk}/").content.decode()
    assert 'data-reason="not_verified"' in detail and MUNICIPAL_ID not in detail
    refused = logged_in(person).post(
        f"/api/v1/municipalities/maebashi/proposals/{proposal.pk}/signature",
        headers={"accept-language": "en"},
    )
    body = json.loads(refused.content)
    assert refused.status_code == 403 and body["code"] == "not_verified"
    assert "municipal ID" not in body["message"] and "resident register" in body["message"]
    assert not Signature.objects.exists()


def test_with_a_provider_it_is_offered_first_and_named(town: Municipality) -> None:
    _with_provider(town)
    person = UserFactory()
    page = _verification_page(person)
    offers = page[page.index("<ul>", page.index('data-status="not_verified"')) :]
    first = offers[: offers.index("</li>")]
    assert 'href="/m/maebashi/verify/oidc/"' in first and "自治体IDで確認" in first
    decision = eligibility(person, town, timezone.now(), EligibilityRule())
    assert decision.code == "not_verified" and MUNICIPAL_ID in str(decision.message)
    assert logged_in(person).get("/m/maebashi/verify/oidc/").status_code == 200


def test_the_refusal_follows_the_municipality_not_the_site(town: Municipality) -> None:
    """Kamakura has a provider, Maebashi none: each refusal speaks of what its town offers."""
    kamakura = MunicipalityFactory(slug="kamakura", name="鎌倉市", code="142042")
    identity_provider_configure(
        actor=staff(kamakura, Role.ADMINISTRATOR),
        municipality=kamakura,
        name="鎌倉市ID",
        server_url="https://id.kamakura.example.jp",
        client_id="mebuku",
        secret="secret",
    )
    person = UserFactory()
    here = eligibility(person, town, timezone.now(), EligibilityRule())
    there = eligibility(person, kamakura, timezone.now(), EligibilityRule())
    assert MUNICIPAL_ID not in str(here.message) and MUNICIPAL_ID in str(there.message)
    strict = EligibilityRule(methods={"oidc"})
    assert "窓口" in str(eligibility(person, town, timezone.now(), strict).message)


def test_the_demo_registers_its_provider_for_both_towns(db: None) -> None:
    from identity.demo import seed

    seed()
    seed()  # idempotent
    providers = {p.municipality.slug: p for p in IdentityProvider.objects.select_related("app")}
    assert set(providers) == {"maebashi", "kamakura"}
    for slug, provider in providers.items():
        assert provider.server_url == demo_idp.issuer(slug)
        assert provider.app.client_id == demo_idp.client_id(slug)
        config = demo_idp.provider_config(slug, ("http://127.0.0.1:8000",))
        assert config["clients"][0]["redirect_uris"] == [
            f"http://127.0.0.1:8000/m/{slug}/accounts/oidc/municipal-{slug}/login/callback/"
        ]
        assert config["port"] == int(provider.server_url.rsplit(":", 1)[1])
    assert demo_idp.issuer("maebashi") != demo_idp.issuer("kamakura")
