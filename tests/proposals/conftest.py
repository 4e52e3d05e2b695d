from __future__ import annotations

import pytest

from identity.models import Municipality
from tests.factories import MunicipalityFactory


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")
