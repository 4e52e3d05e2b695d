"""The debounce for real: votes go through Redis to a Celery worker, which computes once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from debates.models import OpinionSnapshot
from debates.services import statement_create_from_contributions, vote_cast
from identity.models import Role
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    staff,
    verified,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker() -> Iterator[None]:
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager = eager


def test_a_burst_of_votes_is_computed_once_by_the_worker(
    celery_worker: None, settings: Any
) -> None:
    # The window only has to outlast the burst below (a dozen short transactions).
    settings.DEBATES_OPINIONS_DEBOUNCE_SECONDS = 10.0
    town = MunicipalityFactory()
    moderator = staff(town, Role.MODERATOR)
    debate = DebateFactory(municipality=town, created_by=moderator, phases=("converge",))
    statements = [
        statement_create_from_contributions(actor=moderator, debate_id=debate.pk, text=f"文 {i}")
        for i in range(3)
    ]
    voters = [verified(town) for _ in range(4)]
    for voter in voters:
        for statement in statements:
            vote_cast(actor=voter, statement_id=statement.pk, value=1)
    assert not OpinionSnapshot.objects.exists()  # nothing computed in the votes themselves
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not OpinionSnapshot.objects.exists():
        time.sleep(0.2)
    snapshot = OpinionSnapshot.objects.get(debate=debate)
    assert snapshot.vote_count == 12 and snapshot.participant_count == 4
    debate.refresh_from_db()
    assert debate.opinions_dirty_since is None
