from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from identity.models import Municipality
from tests.factories import MunicipalityFactory


@pytest.fixture
def town(db: None) -> Municipality:
    return MunicipalityFactory(slug="maebashi", name="前橋市", name_en="Maebashi", code="102016")


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a directory of this test only."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root
