"""Group commit for signatures (signature_add_many): a batch gives exactly what one-by-one
signature_add calls give, and concurrent batches cross the threshold once."""

from __future__ import annotations

from typing import Any

import pytest

from identity.errors import DomainError
from identity.models import AuditEntry, Municipality, User
from proposals import services
from proposals.models import Proposal, Signature, Status, TimelineEvent
from tests.concurrency import run_concurrently
from tests.factories import (
    MunicipalityFactory,
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    verified,
)


def _sign_many(actors: list[User], town: Municipality, proposal_id: int) -> list[Any]:
    return services.signature_add_many(
        requests=[services.SignRequest(actor, proposal_id) for actor in actors],
        municipality=town,
    )


def _shape(outcome: Any) -> tuple[Any, ...]:
    if isinstance(outcome, DomainError):
        return ("error", outcome.code, outcome.status)
    return ("ok", outcome.count, outcome.crossed_threshold, outcome.threshold)


def _state(proposal: Proposal) -> tuple[Any, ...]:
    proposal.refresh_from_db()
    signers = list(
        Signature.objects.filter(proposal=proposal).order_by("pk").values_list("user_id", flat=True)
    )
    audits = AuditEntry.objects.filter(action="signature.add", data__proposal=proposal.pk).count()
    crossings = TimelineEvent.objects.filter(
        proposal=proposal, status=Status.THRESHOLD_REACHED
    ).count()
    return proposal.signature_count, signers, audits, proposal.status, crossings


def _mixed(town: Municipality, name: str) -> tuple[Proposal, list[User]]:
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=4, name=name)
    proposal = ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)
    first = verified(town)
    services.signature_add(actor=first, municipality=town, proposal_id=proposal.pk)
    a, b, c, d = (verified(town) for _ in range(4))
    stranger: User = UserFactory.create()  # not verified: refused with the eligibility code
    # a; already signed; not verified; b (reaches 3); a again; c (crosses at 4); d (5)
    return proposal, [a, first, stranger, b, a, c, d]


@pytest.mark.django_db
def test_a_mixed_batch_gives_what_one_by_one_calls_give(town: Municipality) -> None:
    one, actors_one = _mixed(town, "one")
    alone = []
    for actor in actors_one:
        try:
            alone.append(services.signature_add(actor=actor, municipality=town, proposal_id=one.pk))
        except DomainError as refused:
            alone.append(refused)
    many, actors_many = _mixed(town, "many")
    together = _sign_many(actors_many, town, many.pk)
    assert [_shape(o) for o in together] == [_shape(o) for o in alone]
    assert [_shape(o) for o in together] == [
        ("ok", 2, False, 4),
        ("error", "already_signed", 409),
        ("error", "not_verified", 403),
        ("ok", 3, False, 4),
        ("error", "already_signed", 409),
        ("ok", 4, True, 4),
        ("ok", 5, False, 4),
    ]
    count_one, signers_one, audits_one, status_one, crossings_one = _state(one)
    count_many, signers_many, audits_many, status_many, crossings_many = _state(many)
    assert (count_many, audits_many, status_many, crossings_many) == (
        count_one,
        audits_one,
        status_one,
        crossings_one,
    )
    assert (count_many, audits_many, status_many, crossings_many) == (
        5,
        5,
        Status.THRESHOLD_REACHED,
        1,
    )
    index = {user.pk: i for i, user in enumerate(actors_one)}
    index_many = {user.pk: i for i, user in enumerate(actors_many)}
    assert sorted(index[u] for u in signers_one[1:]) == sorted(
        index_many[u] for u in signers_many[1:]
    )


@pytest.mark.django_db
def test_a_closed_or_unknown_proposal_refuses_the_whole_batch(town: Municipality) -> None:
    signers = [verified(town) for _ in range(2)]
    outcomes = _sign_many(signers, town, 999999)
    assert [_shape(o) for o in outcomes] == [("error", "not_found", 404)] * 2
    assert services.signature_add_many(requests=[], municipality=town) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_cross_the_threshold_exactly_once() -> None:
    town = MunicipalityFactory()
    proposal = ProposalFactory(
        municipality=town,
        type=ProposalTypeFactory(municipality=town, threshold_fixed=13),
        author=verified(town),
        collecting=True,
    )
    signers = [verified(town) for _ in range(24)]
    twice = signers[5]  # also in another batch: counted once, the other gets already_signed
    batches = [signers[i * 6 : (i + 1) * 6] for i in range(4)]
    batches[3] = [*batches[3], twice]
    outcomes = run_concurrently(
        lambda i: _sign_many(batches[i], town, proposal.pk),
        len(batches),
    )
    results: list[Any] = []
    for outcome in outcomes:
        assert not isinstance(outcome, BaseException), outcome
        results += outcome
    ok = [o for o in results if not isinstance(o, DomainError)]
    refused = [o for o in results if isinstance(o, DomainError)]
    assert [o.code for o in refused] == ["already_signed"]
    assert sorted(o.count for o in ok) == list(range(1, 25))
    crossings = [o for o in ok if o.crossed_threshold]
    assert len(crossings) == 1 and crossings[0].count == 13
    proposal.refresh_from_db()
    assert proposal.signature_count == 24 == Signature.objects.filter(proposal=proposal).count()
    assert proposal.status == Status.THRESHOLD_REACHED
    assert (
        TimelineEvent.objects.filter(proposal=proposal, status=Status.THRESHOLD_REACHED).count()
        == 1
    )
    assert (
        AuditEntry.objects.filter(action="signature.add", data__proposal=proposal.pk).count() == 24
    )


@pytest.mark.django_db
def test_a_batch_over_several_proposals_gives_what_one_by_one_calls_give(
    town: Municipality,
) -> None:
    """Requests for several proposals in one group commit, interleaved: each proposal numbers its
    own signatures in arrival order; a closed or unknown proposal refuses only its requests;
    one person may sign two proposals in the same batch."""
    teen_type = ProposalTypeFactory(municipality=town, threshold_fixed=2, name="teen", min_age=16)
    states: list[tuple[Any, ...]] = []
    shapes: list[list[tuple[Any, ...]]] = []
    for together in (False, True):
        one, actors_one = _mixed(town, f"one {together}")
        two = ProposalFactory(
            municipality=town, type=teen_type, author=verified(town), collecting=True
        )
        closed = ProposalFactory(
            municipality=town,
            type=ProposalTypeFactory(municipality=town, name=f"closed {together}"),
            author=verified(town),
            collecting=True,
        )
        Proposal.objects.filter(pk=closed.pk).update(status=Status.EXPIRED)
        both = actors_one[0]  # signs `one` and `two`
        requests = []
        for k, actor in enumerate(actors_one):
            requests.append(services.SignRequest(actor, one.pk))
            if k % 2 == 0:
                requests.append(services.SignRequest(actor, two.pk))
        requests += [
            services.SignRequest(both, closed.pk),
            services.SignRequest(both, 999999),
        ]
        if together:
            outcomes = services.signature_add_many(requests=requests, municipality=town)
        else:
            outcomes = []
            for request in requests:
                try:
                    outcomes.append(
                        services.signature_add(
                            actor=request.actor, municipality=town, proposal_id=request.proposal_id
                        )
                    )
                except DomainError as refused:
                    outcomes.append(refused)
        shapes.append([_shape(o) for o in outcomes])
        states.append((_state(one)[0::2], _state(two)[0::2], _state(closed)[0::2]))
    assert shapes[0] == shapes[1]
    assert states[0] == states[1]
    assert shapes[1][-2:] == [("error", "collection_closed", 410), ("error", "not_found", 404)]
    # `two` (threshold 2) hears a (crosses? no: 1), the stranger (refused), a again (already
    # signed) and c (2: crosses).
    assert states[1][1] == (2, 2, 1)  # count, audits, crossings


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_over_the_same_proposals_in_opposite_orders_neither_deadlock_nor_lose() -> None:
    town = MunicipalityFactory()
    kind = ProposalTypeFactory(municipality=town, threshold_fixed=10)
    proposals = [
        ProposalFactory(municipality=town, type=kind, author=verified(town), collecting=True)
        for _ in range(3)
    ]
    signers = [verified(town) for _ in range(8)]

    def batch(i: int) -> list[Any]:
        order = proposals if i % 2 == 0 else proposals[::-1]
        requests = [
            services.SignRequest(signer, proposal.pk)
            for signer in signers[i * 2 : i * 2 + 2]
            for proposal in order
        ]
        return services.signature_add_many(requests=requests, municipality=town)

    outcomes = run_concurrently(batch, 4)
    for outcome in outcomes:
        assert not isinstance(outcome, BaseException), outcome
        assert all(not isinstance(o, DomainError) for o in outcome), outcome
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.signature_count == 8 == Signature.objects.filter(proposal=proposal).count()
        counts = sorted(
            o.count
            for outcome in outcomes
            if isinstance(outcome, list)
            for o in outcome
            if o.signature.proposal_id == proposal.pk
        )
        assert counts == list(range(1, 9))
