"""Voting fixtures: an election office, verified residents, trustees whose keys are made with the
election library (as the trustee tool does, on "their own computer"), and elections in each state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from identity.models import Municipality, Role, User
from tests.factories import ElectionFactory, UserFactory, staff, verified
from voting import services
from voting.election import ElectionContext, TrusteeKey, encrypt_ballot, generate_key
from voting.election.rng import TestStream
from voting.models import Election, RollEntry
from voting.trustee import decrypt_tally


@dataclass
class Scenario:
    town: Municipality
    office: User
    trustees: list[User]
    keys: list[TrusteeKey]
    voters: list[User]
    election: Election
    others: dict[str, User] = field(default_factory=dict)

    def reload(self) -> Election:
        self.election.refresh_from_db()
        return self.election

    @property
    def ctx(self) -> ElectionContext:
        election = self.reload()
        assert election.header is not None
        return ElectionContext.from_record(election.header)

    def alias(self, voter: User) -> str:
        return RollEntry.objects.get(election=self.election, user=voter).alias

    def ballot(
        self, voter: User, selections: dict[str, list[str]], seed: str | None = None
    ) -> dict[str, Any]:
        rng = TestStream(seed) if seed is not None else None
        return encrypt_ballot(self.ctx, self.alias(voter), selections, rng)

    def cast(self, voter: User, selections: dict[str, list[str]]) -> services.CastReceipt:
        return services.ballot_cast(
            actor=voter,
            municipality=self.town,
            election_id=self.election.pk,
            ballot_json=self.ballot(voter, selections),
        )

    def close_and_decrypt(self) -> None:
        """Office closes; the tally task runs (eager); each trustee decrypts with the CLI's
        function and uploads; the last upload publishes."""
        from voting import selectors

        with TestCase.captureOnCommitCallbacks(execute=True):
            services.election_close(
                actor=self.office, municipality=self.town, election_id=self.election.pk
            )
        election = self.reload()
        for user, key in zip(self.trustees, self.keys, strict=True):
            request = selectors.trustee_tally_request(user, election)
            factors = decrypt_tally(key, request)
            with TestCase.captureOnCommitCallbacks(execute=True):
                services.decryption_upload(
                    actor=user,
                    municipality=self.town,
                    election_id=election.pk,
                    factors_json=factors,
                )
        self.reload()


# Selections as a voter makes them, for the two QUESTIONS of tests/factories.py.
YES = {"q1": ["yes"], "q2": ["o1", "o2"]}
NO = {"q1": ["no"], "q2": []}


def randomness_of(
    ctx: ElectionContext, selections: dict[str, list[str]], rng: TestStream
) -> list[dict[str, Any]]:
    """Replays the contract's order of draws to recover each option's ρ (what the JS module
    returns as `secrets`)."""
    out = []
    for q in ctx.questions:
        chosen = set(selections.get(q.id, ()))
        rhos = []
        for option in q.option_ids:
            rhos.append(format(rng.draw(), "x"))
            # the option's {0,1} proof: one w for the true value, c and r for the other
            rng.draw(), rng.draw(), rng.draw()
            _ = option in chosen
        # overall proof over {min..max}: one draw for the true value, two for each other
        span = q.max_selections - q.min_selections + 1
        for _j in range(2 * span - 1):
            rng.draw()
        out.append({"question": q.id, "randomness": rhos})
    return out


@pytest.fixture
def office(town: Municipality) -> User:
    return staff(town, Role.ELECTION_OFFICE)


@pytest.fixture
def trustee_keys() -> list[TrusteeKey]:
    return [generate_key(TestStream(f"trustee-key-{i}")) for i in range(2)]


@pytest.fixture
def scenario(town: Municipality, office: User, trustee_keys: list[TrusteeKey]) -> Scenario:
    """A frozen, open election with three voters on the roll and two left off it."""
    trustees: list[User] = [UserFactory() for _ in range(2)]
    voters = [verified(town, birth=date(1980 + i, 4, 1)) for i in range(3)]
    teen = verified(town, birth=timezone.localdate() - timedelta(days=365 * 16))
    outsider: User = UserFactory()
    election = ElectionFactory(
        municipality=town, created_by=office, trustees=trustees, keys=trustee_keys, frozen=True
    )
    return Scenario(
        town, office, trustees, trustee_keys, voters, election, {"teen": teen, "outsider": outsider}
    )
