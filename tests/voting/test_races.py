"""Ballots under real concurrency against PostgreSQL: one counted ballot per voter, casts racing
the close, audits racing casts, nobody off the roll."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from identity.errors import Conflict, PermissionDenied
from identity.models import User
from tests.concurrency import run_concurrently
from tests.factories import verified
from tests.voting.conftest import NO, YES, Scenario, randomness_of
from voting import services
from voting.election import encrypt_ballot, verify_record
from voting.election.rng import TestStream
from voting.models import Ballot, Result, Status

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _cast(s: Scenario, voter: User, ballot: dict[str, Any]) -> services.CastReceipt:
    return services.ballot_cast(
        actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=ballot
    )


def test_one_voter_casting_from_many_sessions_has_one_counted_ballot(scenario: Scenario) -> None:
    s = scenario
    voter = s.voters[0]
    ballots = [s.ballot(voter, YES if i % 2 else NO) for i in range(6)]
    outcomes = run_concurrently(lambda i: _cast(s, voter, ballots[i]), len(ballots))
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    rows = list(Ballot.objects.filter(election=s.election).order_by("cast_at", "id"))
    assert len(rows) == 6
    assert [b.superseded for b in rows] == [True] * 5 + [False]  # the last one received counts
    assert len({b.cast_at for b in rows}) == 6
    assert (
        sum(1 for o in outcomes if isinstance(o, services.CastReceipt) and not o.replaced_previous)
        == 1
    )


def test_the_same_ballot_from_two_sessions_is_stored_once(scenario: Scenario) -> None:
    s = scenario
    ballot = s.ballot(s.voters[0], YES)
    outcomes = run_concurrently(lambda _: _cast(s, s.voters[0], ballot), 4)
    accepted = [o for o in outcomes if isinstance(o, services.CastReceipt)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(accepted) == 1 and len(refused) == 3, outcomes
    assert {o.code for o in refused} == {"ballot_duplicate"}
    assert Ballot.objects.count() == 1


def test_audit_racing_cast_of_the_same_ballot(scenario: Scenario) -> None:
    """Benaloh: one ballot is either cast or audited, never both."""
    s = scenario
    voter = s.voters[0]
    ballot = encrypt_ballot(s.ctx, s.alias(voter), YES, TestStream("race-audit"))
    randomness = randomness_of(s.ctx, YES, TestStream("race-audit"))

    def work(i: int) -> Any:
        if i % 2:
            return _cast(s, voter, ballot)
        return services.ballot_audit(
            actor=voter,
            municipality=s.town,
            election_id=s.election.pk,
            ballot_json=ballot,
            randomness=randomness,
        )

    outcomes = run_concurrently(work, 6)
    accepted = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(accepted) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException))
    assert Ballot.objects.count() == 1


def test_casts_racing_the_close_are_all_counted_or_refused(scenario: Scenario) -> None:
    s = scenario
    voters = s.voters  # the roll is frozen with three; the others are re-votes
    jobs = [(voters[i % 3], s.ballot(voters[i % 3], YES if i % 2 else NO)) for i in range(11)]

    def work(i: int) -> Any:
        if i == len(jobs):
            return services.election_close(
                actor=s.office, municipality=s.town, election_id=s.election.pk
            )
        voter, ballot = jobs[i]
        return _cast(s, voter, ballot)

    outcomes = run_concurrently(work, len(jobs) + 1)
    election = s.reload()
    assert election.closed_at is not None
    accepted = [o for o in outcomes if isinstance(o, services.CastReceipt)]
    refused = [o for o in outcomes[:-1] if isinstance(o, BaseException)]
    assert all(isinstance(o, Conflict) and o.code == "election_closed" for o in refused), refused
    assert len(accepted) + len(refused) == len(jobs)
    # Every accepted ballot was cast before the close and is stored; none after.
    assert all(r.cast_at < election.closed_at for r in accepted)
    stored = Ballot.objects.filter(election=election)
    assert sorted(b.tracker for b in stored) == sorted(r.tracker for r in accepted)
    assert not stored.filter(cast_at__gte=election.closed_at).exists()
    # The tally (run right after the close committed) counts each voter's last accepted ballot.
    assert election.status == Status.TALLIED
    voters_who_voted = stored.values("roll_entry").distinct().count()
    assert election.tally.ballots_counted == voters_who_voted
    per_voter = stored.filter(superseded=False).values("roll_entry").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_voter)
    # And the published record verifies.
    from voting import selectors
    from voting.trustee import decrypt_tally

    for user, key in zip(s.trustees, s.keys, strict=True):
        factors = decrypt_tally(key, selectors.trustee_tally_request(user, s.reload()))
        services.decryption_upload(
            actor=user, municipality=s.town, election_id=election.pk, factors_json=factors
        )
    record = Result.objects.get(election=election).record
    assert verify_record(record).ok
    assert sum(1 for b in record["ballots"] if b["counted"]) == voters_who_voted


def test_nobody_off_the_roll_gets_a_ballot_in(scenario: Scenario) -> None:
    s = scenario
    late = verified(s.town)  # verified after the roll was frozen
    outsiders = [s.others["teen"], s.others["outsider"], late]
    ballot = s.ballot(s.voters[0], YES)
    outcomes = run_concurrently(
        lambda i: (
            _cast(s, outsiders[i % 3], ballot)
            if i < 6
            else _cast(s, s.voters[1], s.ballot(s.voters[1], NO))
        ),
        7,
    )
    codes = sorted(o.code for o in outcomes if isinstance(o, PermissionDenied))
    assert codes == sorted(["under_age", "not_on_roll", "not_on_roll"] * 2)
    assert [b.roll_entry.user for b in Ballot.objects.select_related("roll_entry__user")] == [
        s.voters[1]
    ]
