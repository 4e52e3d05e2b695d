"""Shared fixtures: small seeded elections, and a helper naming the failed checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from voting.election.verifier import verify_record
from voting.simulate import SimulatedElection, run_election


def failed_checks(record: dict[str, Any], strict: bool = False) -> set[int]:
    return set(verify_record(record, workers=1, strict=strict).failed_checks())


@pytest.fixture(scope="session")
def honest_election() -> SimulatedElection:
    # 3 trustees, a yes/no and a choose-up-to-2 question, re-votes, one abstainer.
    return run_election(
        9, 3, "yesno,choose:4:2", revotes=4, workers=1, seed="fixture", abstain=0.12
    )


@pytest.fixture
def record(honest_election: SimulatedElection) -> dict[str, Any]:
    return copy.deepcopy(honest_election.record)
