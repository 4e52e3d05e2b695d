from __future__ import annotations

import pytest
from django.test import Client

from identity.models import Municipality, User
from tests.factories import MunicipalityFactory


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
