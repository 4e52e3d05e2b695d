"""Group commit of verified ballots (`ballot_store_many`, used by the lean cast path): each ballot
gets what `ballot_store` alone would give it, and the invariants hold under concurrency."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.db.models import Count

from identity.errors import Conflict, DomainError
from identity.models import AuditEntry, Municipality, User
from tests.concurrency import run_concurrently
from tests.factories import (
    ElectionFactory,
    UserFactory,
    verified,
)
from tests.voting.conftest import NO, YES, Scenario, randomness_of
from voting import selectors, services
from voting.election import TrusteeKey, encrypt_ballot
from voting.election.rng import TestStream
from voting.models import Ballot, BallotKind, RollEntry, Status

pytestmark = pytest.mark.postgres


@pytest.fixture
def eight(town: Municipality, office: User, trustee_keys: list[TrusteeKey]) -> Scenario:
    """A frozen, open election with eight voters: two halves that play the same script."""
    trustees: list[User] = [UserFactory() for _ in range(2)]
    voters = [verified(town, birth=date(1960 + i, 4, 1)) for i in range(8)]
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=trustees, keys=trustee_keys
    )
    services.election_freeze(actor=office, municipality=town, election_id=election.pk)
    election.refresh_from_db()
    return Scenario(town, office, trustees, trustee_keys, voters, election)


def _prepare(s: Scenario, voter: User, ballot: dict[str, Any]) -> services.PreparedBallot:
    return services.ballot_prepare(
        actor=voter, municipality=s.town, election_id=s.election.pk, ballot_json=ballot
    )


def _script(s: Scenario, v: list[User]) -> tuple[list[tuple[User, Any]], dict[str, str]]:
    """Four voters' history, then one mixed batch: a cast ballot sent again, an audited ballot
    sent for casting, re-votes inside the batch and across batches. Returns the batch and a
    label for every tracker (the same labels for both halves)."""
    ctx = s.ctx
    labels: dict[str, str] = {}

    def ballot(voter: User, choice: dict[str, list[str]], label: str) -> dict[str, Any]:
        made = encrypt_ballot(ctx, s.alias(voter), choice)
        labels[_prepare(s, voter, made).tracker] = label
        return made

    earlier0 = ballot(v[0], YES, "v0-earlier")
    services.ballot_cast(
        actor=v[0], municipality=s.town, election_id=s.election.pk, ballot_json=earlier0
    )
    services.ballot_cast(
        actor=v[3],
        municipality=s.town,
        election_id=s.election.pk,
        ballot_json=ballot(v[3], NO, "v3-earlier"),
    )
    audited = encrypt_ballot(ctx, s.alias(v[2]), YES, TestStream(f"audit-{v[2].pk}"))
    receipt = services.ballot_audit(
        actor=v[2],
        municipality=s.town,
        election_id=s.election.pk,
        ballot_json=audited,
        randomness=randomness_of(ctx, YES, TestStream(f"audit-{v[2].pk}")),
    )
    labels[receipt.tracker] = "v2-audited"
    batch = [
        (v[0], earlier0),  # cast already: ballot_duplicate
        (v[1], ballot(v[1], YES, "v1-x")),
        (v[2], audited),  # audited: can never be cast
        (v[3], ballot(v[3], YES, "v3-new")),  # supersedes v3's earlier ballot
        (v[1], ballot(v[1], NO, "v1-y")),  # the same voter again: this one counts
        (v[0], ballot(v[0], NO, "v0-new")),
        (v[2], ballot(v[2], NO, "v2-fresh")),
    ]
    return [(voter, _prepare(s, voter, b)) for voter, b in batch], labels


def _outcome(result: Any) -> tuple[Any, ...]:
    if isinstance(result, DomainError):
        return (type(result).__name__, result.code, result.status)
    assert isinstance(result, services.CastReceipt)
    return ("cast", result.replaced_previous)


def _state(s: Scenario, voters: list[User], labels: dict[str, str]) -> list[Any]:
    """Per voter: their ballots in cast order (label, kind, superseded) and their board rows
    (the record of ballots; no audit entry names a voter's ballot)."""
    state = []
    board = [(r.tracker, r.superseded) for r in selectors.bulletin_board(s.election).rows]
    for voter in voters:
        entry = RollEntry.objects.get(election=s.election, user=voter)
        ballots = Ballot.objects.filter(roll_entry=entry).order_by("cast_at", "id")
        rows = [(labels[b.tracker], b.kind, b.superseded) for b in ballots]
        own = {b.tracker for b in ballots}
        on_board = [(labels[t], superseded) for t, superseded in board if t in own]
        assert not AuditEntry.objects.filter(actor=voter).exists()
        state.append((rows, on_board))
    return state


@pytest.mark.django_db
def test_a_mixed_batch_gives_what_storing_one_by_one_gives(
    eight: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    s = eight
    grouped_voters, single_voters = s.voters[:4], s.voters[4:]
    grouped, grouped_labels = _script(s, grouped_voters)
    single, single_labels = _script(s, single_voters)

    with django_capture_on_commit_callbacks(execute=True):
        results = services.ballot_store_many(grouped)
    one_by_one: list[Any] = []
    for voter, prepared in single:
        try:
            one_by_one.append(services.ballot_store(actor=voter, prepared=prepared))
        except DomainError as refused:
            one_by_one.append(refused)

    expected = [
        ("Conflict", "ballot_duplicate", 409),
        ("cast", False),
        ("Conflict", "ballot_audited", 409),
        ("cast", True),
        ("cast", True),
        ("cast", True),
        ("cast", False),
    ]
    assert [_outcome(r) for r in one_by_one] == expected
    assert [_outcome(r) for r in results] == expected
    assert _state(s, grouped_voters, grouped_labels) == _state(s, single_voters, single_labels)
    # Each accepted ballot has its own receipt, stored as returned, and its own e-mail.
    receipts = [r for r in results if isinstance(r, services.CastReceipt)]
    for receipt in receipts:
        stored = Ballot.objects.get(pk=receipt.ballot_id)
        assert (stored.tracker, stored.cast_at) == (receipt.tracker, receipt.cast_at)
    mailed = sorted(m.body for m in mail.outbox)
    assert len(mailed) == len(receipts) == 5
    assert all(sum(r.tracker in body for body in mailed) == 1 for r in receipts)
    # The first ballots of v1 and v3 shared one transaction (one clock reading); the later
    # ones were stored after it, so a voter's later ballot has the later cast_at.
    first_v1, first_v3, later_v1 = results[1], results[3], results[4]
    assert isinstance(first_v1, services.CastReceipt)
    assert isinstance(first_v3, services.CastReceipt)
    assert isinstance(later_v1, services.CastReceipt)
    assert first_v1.cast_at == first_v3.cast_at < later_v1.cast_at
    per_voter = (
        Ballot.objects.filter(election=s.election, kind=BallotKind.CAST, superseded=False)
        .values("roll_entry")
        .annotate(n=Count("id"))
    )
    assert len(per_voter) == 8 and all(row["n"] == 1 for row in per_voter)


@pytest.mark.django_db
def test_a_batch_after_the_close_is_refused_whole(eight: Scenario) -> None:
    s = eight
    casts = [(v, _prepare(s, v, s.ballot(v, YES))) for v in s.voters[:3]]
    services.election_close(actor=s.office, municipality=s.town, election_id=s.election.pk)
    results = services.ballot_store_many(casts)
    assert [_outcome(r) for r in results] == [("Conflict", "election_closed", 409)] * 3
    assert not Ballot.objects.filter(election=s.election).exists()


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_in_parallel_leave_one_counted_ballot_per_voter(
    eight: Scenario,
) -> None:
    """Batches naming the same voters in different orders lock in id order: no deadlock, no
    lost ballot, one counted ballot per voter (the one stored last)."""
    s = eight
    batches = []
    for i in range(4):
        voters = s.voters if i % 2 else list(reversed(s.voters))
        batches.append([(v, _prepare(s, v, s.ballot(v, YES if i % 2 else NO))) for v in voters])
    outcomes = run_concurrently(lambda i: services.ballot_store_many(batches[i]), len(batches))
    receipts = []
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
        assert all(isinstance(r, services.CastReceipt) for r in outcome), outcome
        receipts += outcome
    stored = Ballot.objects.filter(election=s.election)
    assert sorted(b.tracker for b in stored) == sorted(r.tracker for r in receipts)
    per_voter = stored.filter(superseded=False).values("roll_entry").annotate(n=Count("id"))
    assert len(per_voter) == 8 and all(row["n"] == 1 for row in per_voter)
    for entry_id in stored.values_list("roll_entry", flat=True).distinct():
        last = stored.filter(roll_entry=entry_id).order_by("cast_at", "id").last()
        assert last is not None and not last.superseded
    assert sum(1 for r in receipts if not r.replaced_previous) == 8
    board = selectors.bulletin_board(s.election, per_page=len(receipts) + 1)
    assert sorted(r.tracker for r in board.rows) == sorted(r.tracker for r in receipts)
    assert not AuditEntry.objects.filter(action__startswith="ballot.").exists()


@pytest.mark.django_db(transaction=True)
def test_batches_racing_the_close_are_all_counted_or_refused(eight: Scenario) -> None:
    s = eight
    batches = [
        [(v, _prepare(s, v, s.ballot(v, YES if i % 2 else NO))) for v in s.voters[i % 2 :: 2]]
        for i in range(6)
    ]

    def work(i: int) -> Any:
        if i == len(batches):
            return services.election_close(
                actor=s.office, municipality=s.town, election_id=s.election.pk
            )
        return services.ballot_store_many(batches[i])

    outcomes = run_concurrently(work, len(batches) + 1)
    election = s.reload()
    assert election.closed_at is not None and election.status == Status.TALLIED
    accepted: list[services.CastReceipt] = []
    refused: list[Any] = []
    for outcome in outcomes[:-1]:
        assert isinstance(outcome, list), outcome
        for result in outcome:
            (accepted if isinstance(result, services.CastReceipt) else refused).append(result)
    assert all(isinstance(r, Conflict) and r.code == "election_closed" for r in refused), refused
    assert len(accepted) + len(refused) == sum(len(b) for b in batches)
    assert all(r.cast_at < election.closed_at for r in accepted)
    stored = Ballot.objects.filter(election=election)
    assert sorted(b.tracker for b in stored) == sorted(r.tracker for r in accepted)
    voters_who_voted = stored.values("roll_entry").distinct().count()
    assert election.tally.ballots_counted == voters_who_voted


@pytest.mark.django_db
@pytest.mark.parametrize("voters", [2, 8])
def test_the_group_commit_is_flat_in_batch_size(eight: Scenario, voters: int) -> None:
    """SAVEPOINT, roll entries locked in id order, the election share-locked with the clock,
    trackers taken?, supersede, insert, outbox messages (the receipts), RELEASE: the same for 2
    ballots as for 8."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    s = eight
    casts = [(v, _prepare(s, v, s.ballot(v, YES))) for v in s.voters[:voters]]
    with CaptureQueriesContext(connection) as captured:
        results = services.ballot_store_many(casts)
    assert all(isinstance(r, services.CastReceipt) for r in results)
    assert len(captured) == 8


@pytest.mark.django_db
def test_a_ballot_alone_is_the_group_commit_of_one(
    eight: Scenario, django_assert_num_queries: Any
) -> None:
    """SAVEPOINT, roll entry lock, election share lock with the clock, supersede, insert, outbox
    message (the receipt), RELEASE."""
    s = eight
    voter = s.voters[0]
    prepared = _prepare(s, voter, s.ballot(voter, YES))
    with django_assert_num_queries(7):
        services.ballot_store(actor=voter, prepared=prepared)


@pytest.mark.django_db
@pytest.mark.parametrize("voters", [1, 8])
def test_the_checks_before_the_proofs_are_flat_in_batch_size(eight: Scenario, voters: int) -> None:
    """One read of the voters' roll entries joined to their election (its context cached)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    s = eight
    requests = [
        services.PrepareRequest(v, s.town, s.election.pk, s.ballot(v, YES))
        for v in s.voters[:voters]
    ]
    services.ballot_prepare_many(requests[:1])  # the election's context is cached per process
    with CaptureQueriesContext(connection) as captured:
        prepared = services.ballot_prepare_many(requests)
    assert all(isinstance(p, services.PreparedBallot) for p in prepared)
    assert [p.voter_id for p in prepared] == [v.pk for v in s.voters[:voters]]
    assert len(captured) == 1
