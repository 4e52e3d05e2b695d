from __future__ import annotations

from datetime import date

from django.test import Client

from identity.keys import PersonFacts
from identity.models import User
from tests.factories import PASSWORD


def facts_of(user: User) -> PersonFacts:
    """The person facts tests.factories.VerificationFactory gave `user`."""
    return PersonFacts(f"住民 {user.pk}", date(1980, 4, 1), f"大手町{user.pk}-1")


def reauthenticated(user: User) -> Client:
    """A signed-in client that has just confirmed its password on allauth's reauthentication
    page (what `reauthentication_required` asks for)."""
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client
