from __future__ import annotations

import pytest

from identity.models import Municipality, Role, User
from tests.factories import MunicipalityFactory, UserFactory, staff


@pytest.fixture
def maebashi(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")


@pytest.fixture
def kamakura(db: None) -> Municipality:
    return MunicipalityFactory(slug="kamakura", name="鎌倉市", name_en="Kamakura", code="142042")


@pytest.fixture
def admin(maebashi: Municipality) -> User:
    return staff(maebashi, Role.ADMINISTRATOR, email="admin@maebashi.example.jp")


@pytest.fixture
def resident(db: None) -> User:
    return UserFactory(email="resident@example.jp")
