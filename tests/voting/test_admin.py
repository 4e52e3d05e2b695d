from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory, enable_totp
from tests.voting.conftest import YES, Scenario

pytestmark = pytest.mark.django_db


def test_admin_lists_elections_read_only(scenario: Scenario) -> None:
    scenario.cast(scenario.voters[0], YES)
    operator = UserFactory(is_superuser=True, is_staff=True)
    enable_totp(operator)  # the admin wants two-step verification
    client = Client()
    client.force_login(operator)
    for model in ("election", "trustee", "rollentry", "ballot", "decryptionshare", "result"):
        response = client.get(f"/django-admin/voting/{model}/")
        assert response.status_code == 200, model
    ballot_page = client.get("/django-admin/voting/ballot/")
    assert b"Add ballot" not in ballot_page.content
    election = client.get(f"/django-admin/voting/election/{scenario.election.pk}/change/")
    assert election.status_code == 200 and b"Save" not in election.content
