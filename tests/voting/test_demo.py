"""The demo elections: a finished one whose record verifies, an open one the residents can use."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from identity.demo import seed as identity_seed
from identity.models import Municipality, User
from voting import demo, selectors
from voting.election import verify_record
from voting.models import Ballot, Election, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_town() -> Municipality:
    identity_seed()
    return Municipality.objects.get(slug="maebashi")


def _counts() -> tuple[int, ...]:
    return (Election.objects.count(), Ballot.objects.count(), User.objects.count())


def test_demo_elections(demo_town: Municipality, tmp_path: Path) -> None:
    started = time.perf_counter()
    demo.seed()
    elapsed = time.perf_counter() - started
    counts = _counts()
    demo.seed()
    assert _counts() == counts  # idempotent
    print(f"voting demo seeded in {elapsed:.1f} s")

    finished = Election.objects.get(municipality=demo_town, title=demo.FINISHED_TITLE)
    assert finished.status == Status.PUBLISHED
    report = verify_record(selectors.record_of(finished).record)
    assert report.ok, report.failures
    results = selectors.results_of(finished)
    assert (
        results is not None and results.ballots_counted == 10 and results.roll_size == 21
    )  # 20 residents + kamakura's elsewhere@
    assert [o.count for o in results.questions[0].options] == [8, 2]
    assert len(selectors.audited_ballots(finished)) == 1

    opened = Election.objects.get(municipality=demo_town, title=demo.OPEN_TITLE)
    assert opened.is_open()
    for number in (1, 15):
        resident = User.objects.get(email=f"resident{number:02d}@maebashi.example.jp")
        assert selectors.voter_status(resident, opened).can_cast_now
    for local, code in (("teen", "under_age"), ("unverified", "not_on_roll")):
        person = User.objects.get(email=f"{local}@maebashi.example.jp")
        assert selectors.voter_status(person, opened).code == code
    assert Ballot.objects.filter(election=opened).count() == len(demo.OPEN_VOTES)

    # The demo trustee key file matches the key the open election was frozen with.
    out = tmp_path / "key.json"
    call_command("demo_trustee_key", "maebashi", "1", "--out", str(out))
    assert opened.header is not None
    assert json.loads(out.read_text())["public_key"] == opened.header["trustees"][0]["public_key"]
