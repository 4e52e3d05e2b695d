from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory, enable_totp
from tests.voting.conftest import YES, Scenario
from voting.models import RollEntry

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


def test_no_admin_page_ties_a_board_alias_to_its_voter(scenario: Scenario) -> None:
    """Issue 13, point 8 (read beside the permission matrix): a roll entry's page showed its
    voter next to the alias the bulletin board shows with their ballots."""
    voter = scenario.voters[0]
    scenario.cast(voter, YES)
    entry = RollEntry.objects.get(election=scenario.election, user=voter)
    operator = UserFactory(is_superuser=True, is_staff=True)
    enable_totp(operator)
    client = Client()
    client.force_login(operator)
    for page in (
        f"/django-admin/voting/rollentry/{entry.pk}/change/",
        f"/django-admin/voting/rollentry/?q={entry.alias}",
        f"/django-admin/voting/ballot/?q={entry.alias}",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        for trace in (voter.email, voter.display_name, entry.person_key, f"/user/{voter.pk}/"):
            assert trace not in text, (page, trace)
