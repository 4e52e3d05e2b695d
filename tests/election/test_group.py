"""The group constants are the spec's and follow from its published derivation."""

from __future__ import annotations

import pytest

from voting.election import arith
from voting.election.group import (
    P_CANDIDATE_INDEX,
    G,
    P,
    Q,
    derive_g,
    derive_q,
    group_json,
    is_member,
    is_valid_p,
    p_candidate,
)

gmpy2 = pytest.importorskip("gmpy2")


def test_q_derivation() -> None:
    assert derive_q() == Q
    assert Q.bit_length() == 256


def test_p_is_candidate_913_and_no_earlier_candidate_is_prime() -> None:
    q = int(Q)
    assert p_candidate(P_CANDIDATE_INDEX, q) == P
    assert is_valid_p(p_candidate(P_CANDIDATE_INDEX, q))
    assert (P - 1) % Q == 0
    # gmpy2's Miller-Rabin keeps the 913 rejected candidates to a few seconds.
    for i in range(P_CANDIDATE_INDEX):
        candidate = p_candidate(i, q)
        assert not (candidate.bit_length() == 2048 and gmpy2.is_prime(candidate)), i


def test_g_derivation_and_order() -> None:
    h, g = derive_g(int(P), int(Q))
    assert (h, g) == (2, G)
    assert arith.powmod(G, Q, P) == 1 and G != 1


def test_group_json_matches_constants() -> None:
    assert {k: int(v, 16) for k, v in group_json().items()} == {"p": P, "q": Q, "g": G}


def test_membership() -> None:
    assert is_member(G)
    assert not is_member(P - 1)  # order 2
    assert not is_member(0) and not is_member(P)
