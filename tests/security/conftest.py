from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from config.settings import base


@pytest.fixture
def production_rate_limits(settings: Any) -> Iterator[None]:
    """The shipped allauth rate limits (the test settings turn them off), counted from zero: the
    counters live in the cache."""
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield
    cache.clear()
