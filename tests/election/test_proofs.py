"""Each proof accepts honest transcripts and rejects the matching forgery."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from voting.election import batch as batch_module
from voting.election.arith import powmod
from voting.election.ballot import encrypt_ballot
from voting.election.ballot_check import check_ballot, verify_ballot, verify_ballots
from voting.election.batch import ChunkBatch, plausible_member
from voting.election.decryption import decryption_factors, verify_decryption_factors
from voting.election.elgamal import encrypt
from voting.election.encoding import to_hex
from voting.election.group import G, P, Q, g_pow
from voting.election.keys import generate_key
from voting.election.model import Ciphertext, ElectionContext, ProofEntry
from voting.election.range_proof import prove_range, range_proof_error
from voting.election.rng import TestStream
from voting.election.schnorr import SchnorrProof, public_key_error

QUESTIONS = [
    {"id": "q1", "min_selections": 1, "max_selections": 1, "options": ["yes", "no"]},
    {"id": "q2", "min_selections": 0, "max_selections": 2, "options": ["a", "b", "c"]},
]


@pytest.fixture(scope="module")
def key() -> tuple[int, int]:
    k = generate_key(TestStream("proof-key"))
    return k.secret, k.public


@pytest.fixture(scope="module")
def ctx(key: tuple[int, int]) -> ElectionContext:
    return ElectionContext.from_parts("ab" * 32, to_hex(key[1]), QUESTIONS)


# --- Schnorr ---------------------------------------------------------------------------


def test_schnorr(key: tuple[int, int]) -> None:
    secret, public = key
    k = generate_key(TestStream("s"))
    proof = k.proof()
    assert public_key_error(k.public, proof) is None
    assert public_key_error(public, proof) is not None  # proof for another key
    assert public_key_error(k.public, replace(proof, response=(proof.response + 1) % Q))
    assert public_key_error(k.public, replace(proof, challenge=proof.challenge ^ 1))
    assert (
        public_key_error(P - 1, SchnorrProof(1, 0, 0))
        == "public key is not in the order-q subgroup"
    )
    assert "TrusteeKey(public=" in repr(k) and format(int(k.secret), "x") not in repr(k)
    assert secret  # fixture sanity


# --- range proofs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "value"), [(0, 1, 0), (0, 1, 1), (0, 3, 2), (1, 1, 1), (2, 4, 4)]
)
def test_range_proof_honest_and_forged(ctx: ElectionContext, lo: int, hi: int, value: int) -> None:
    rng = TestStream(f"range-{lo}-{hi}-{value}")
    rho = rng.draw()
    ct = encrypt(ctx, value, rho)
    proof = prove_range(ctx, "alice", "q1", ct, value, rho, lo, hi, rng)
    assert range_proof_error(ctx, "alice", "q1", ct, proof, lo, hi) is None
    # Bound to voter, question and election:
    assert range_proof_error(ctx, "bob", "q1", ct, proof, lo, hi)
    assert range_proof_error(ctx, "alice", "q2", ct, proof, lo, hi)
    other = replace(ctx, election_hash="cd" * 32)
    assert range_proof_error(other, "alice", "q1", ct, proof, lo, hi)
    # Any changed number breaks it.
    for i in range(len(proof)):
        for name in ("a", "b", "c", "r"):
            bad = list(proof)
            bad[i] = replace(proof[i], **{name: (getattr(proof[i], name) * 2 + 1) % P})
            assert range_proof_error(ctx, "alice", "q1", ct, bad, lo, hi), (i, name)


def test_no_honest_range_proof_out_of_range(ctx: ElectionContext) -> None:
    with pytest.raises(ValueError):
        prove_range(ctx, "a", "q1", encrypt(ctx, 2, 5), 2, 5, 0, 1, TestStream("x"))


def test_forged_range_proof_for_value_2_is_rejected(ctx: ElectionContext) -> None:
    """A cheater encrypting 2 in a {0,1} choice cannot make the proof check out."""
    rng = TestStream("cheat")
    rho = rng.draw()
    ct = encrypt(ctx, 2, rho)
    # Best effort: prove "1" using the witness for 2 -- the y-side equation fails.
    w = rng.draw()
    c0, r0 = rng.draw(), rng.draw()
    a0 = g_pow(r0) * powmod(ct.alpha, Q - c0, P) % P
    b0 = ctx.y_pow(r0) * powmod(ct.beta, Q - c0, P) % P
    a1, b1 = g_pow(w), ctx.y_pow(w)
    from voting.election.range_proof import range_challenge

    c = range_challenge(ctx, "eve", "q1", ct, [(a0, b0), (a1, b1)])
    c1 = (c - c0) % Q
    proof = [ProofEntry(a0, b0, c0, r0), ProofEntry(a1, b1, c1, (w + c1 * rho) % Q)]
    assert (
        range_proof_error(ctx, "eve", "q1", ct, proof, 0, 1) == "y-side equation for value 1 fails"
    )
    batch = ChunkBatch(ctx)
    batch.add_range_proof([batch.add_ciphertext(ct)], proof, 0)
    assert not batch.holds()


# --- whole ballots, batched and exact ------------------------------------------------


def test_ballot_verifies_and_forgeries_are_named(ctx: ElectionContext) -> None:
    ballot = encrypt_ballot(ctx, "alice", {"q1": ["no"], "q2": ["a", "c"]}, TestStream("b"))
    assert verify_ballot(ctx, ballot) == []

    swapped = {**ballot, "alias": "mallory"}
    errors = verify_ballot(ctx, swapped)
    assert errors and all("check 5 (range proofs)" in e for e in errors)

    altered = copy.deepcopy(ballot)
    ch = altered["answers"][1]["choices"][2]
    ch["beta"] = to_hex(int(ch["beta"], 16) * int(g_pow(1)) % int(P))  # still in the subgroup
    errors = verify_ballot(ctx, altered)
    assert "check 5 (range proofs) failed: ballot, question q2, choice 2" in errors[0]
    assert any("overall proof" in e for e in errors)

    outside = copy.deepcopy(ballot)
    outside["answers"][0]["choices"][0]["alpha"] = to_hex(P - 1)
    assert any(
        e.startswith("check 4 (encryption) failed: ballot, question q1, choice 0")
        for e in verify_ballot(ctx, outside)
    )

    tracked = {**ballot, "tracker": "0" * 64}
    assert verify_ballot(ctx, tracked) == [
        "check 6 (trackers) failed: ballot: tracker is not SHA-256 of canonical(alias, answers)"
    ]
    short = copy.deepcopy(ballot)
    del short["answers"][1]["choices"][0]
    assert verify_ballot(ctx, short)[0].startswith("check 4 (encryption) failed: ballot: malformed")


def test_selection_rules_enforced_by_encoder(ctx: ElectionContext) -> None:
    cases: list[dict[str, list[str]]] = [
        {"q1": ["yes", "no"]},
        {"q1": []},
        {"q2": ["a", "b", "c"]},
        {"q1": ["maybe"]},
        {"q9": []},
    ]
    for bad in cases:
        with pytest.raises(ValueError):
            encrypt_ballot(ctx, "alice", {"q1": ["yes"], **bad}, TestStream("x"))


def test_negated_commitment_rejected_by_jacobi_in_batch_mode(ctx: ElectionContext) -> None:
    ballot = encrypt_ballot(ctx, "alice", {"q1": ["yes"]}, TestStream("neg"))
    entry = ballot["answers"][0]["choices"][0]["proof"][0]
    entry["a"] = to_hex(P - int(entry["a"], 16))  # -a: differs from a only by an order-2 factor
    failures, _ = check_ballot(ctx, ballot, "b", ChunkBatch(ctx))
    assert [f.check for f in failures] == [5]
    assert "not a square" in failures[0].detail


def _order_13_element() -> int:
    k = (int(P) - 1) // 13
    h = 2
    while powmod(h, k, P) == 1:
        h += 1
    return int(powmod(h, k, P))


def _twisted_ballot(ctx: ElectionContext) -> tuple[dict[str, Any], Ciphertext, list[ProofEntry]]:
    """A yes/no ballot whose overall proof has a commitment with an order-13 factor.

    Only the voter (who knows rho) can build it; the proof is right "modulo the cofactor",
    which is exactly what small-exponent batching alone cannot see."""
    ballot = encrypt_ballot(ctx, "v", {"q1": ["yes"]}, TestStream("odd"))
    replay = TestStream("odd")
    draws = [replay.draw() for _ in range(6)]
    rho = (draws[0] + draws[4]) % Q  # yes: rho, c0, r0, w; no: rho, ...  (contract order)
    choices = ballot["answers"][0]["choices"]
    ct = Ciphertext.from_json(choices[0]).times(Ciphertext.from_json(choices[1]))
    w = 12345
    a = g_pow(w) * _order_13_element() % P
    b = ctx.y_pow(w)
    from voting.election.range_proof import range_challenge

    c = range_challenge(ctx, "v", "q1", ct, [(a, b)])
    forged = [ProofEntry(a, b, c, (w + c * rho) % Q)]
    ballot["answers"][0]["overall_proof"] = [e.to_json() for e in forged]
    return ballot, ct, forged


def test_odd_order_commitment_component(
    ctx: ElectionContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commitment with an order-13 factor: rejected exactly, and by the batch's random
    rounds; invisible only to digits that are all multiples of 13 (hence the 20/256 bound
    per round in batch.py)."""
    ballot, ct, forged = _twisted_ballot(ctx)
    assert (
        range_proof_error(ctx, "v", "q1", ct, forged, 1, 1) == "g-side equation for value 1 fails"
    )
    assert verify_ballot(ctx, ballot) == [
        "check 5 (range proofs) failed: ballot, question q1, overall proof: "
        "g-side equation for value 1 fails"
    ]
    batch = ChunkBatch(ctx)
    failures, _ = check_ballot(ctx, ballot, "b", batch)
    assert failures == []  # nothing exact to see: it is a square (13 is odd)
    assert not batch.holds()

    def with_digits(digit: int) -> bool:
        monkeypatch.setattr(
            batch_module.secrets, "token_bytes", lambda n: bytes([digit]) + bytes(n - 1)
        )
        rigged = ChunkBatch(ctx)
        rigged.add_range_proof([rigged.add_ciphertext(ct)], forged, 1)
        return rigged.holds()

    assert not with_digits(1) and not with_digits(14)
    assert with_digits(13)


def test_membership_rounds() -> None:
    members = [g_pow(i * 7919 + 1) for i in range(300)]
    ctx = ElectionContext("00", G, ())

    def batch_of(elements: list[int]) -> ChunkBatch:
        batch = ChunkBatch(ctx)
        for x, y in zip(elements[::2], elements[1::2], strict=True):
            batch.add_ciphertext(Ciphertext(x, y))
        return batch

    assert batch_of(members).holds()
    twist = _order_13_element()
    for bad in (twist, powmod(twist, 5, P)):
        tampered = list(members)
        tampered[151] = bad * members[151] % P
        assert plausible_member(tampered[151])  # a square: only the rounds can catch it
        assert not batch_of(tampered).holds()
    assert not plausible_member(P - members[0])  # order-2 part: caught exactly, at once
    assert not plausible_member(0) and not plausible_member(P)


def test_cofactor_structure_assumed_by_the_membership_batch() -> None:
    k = (int(P) - 1) // int(Q)
    assert k % int(Q) != 0
    small = [r for r in range(2, 20000) if k % r == 0 and all(r % s for s in range(2, r))]
    assert small == [2, 13, 17]
    assert k % 4 != 0  # 2 divides p - 1 once: the Jacobi symbol sees the whole 2-part


# --- decryption ----------------------------------------------------------------------


def test_decryption_factors_honest_and_forged(ctx: ElectionContext) -> None:
    k = generate_key(TestStream("dk"))
    tally = [[encrypt(ctx, 3, 7), Ciphertext(1, 1)]]
    entry = decryption_factors(k.secret, "t1", ctx.election_hash, ["q1"], tally, TestStream("d"))
    assert verify_decryption_factors(ctx.election_hash, "t1", k.public, ["q1"], tally, entry) == []
    assert verify_decryption_factors(ctx.election_hash, "t2", k.public, ["q1"], tally, entry)
    assert verify_decryption_factors("00" * 32, "t1", k.public, ["q1"], tally, {**entry})
    forged = copy.deepcopy(entry)
    factor = forged["questions"][0]["choices"][0]
    factor["factor"] = to_hex(int(factor["factor"], 16) * int(g_pow(1)) % int(P))
    errors = verify_decryption_factors(ctx.election_hash, "t1", k.public, ["q1"], tally, forged)
    assert errors == ["question q1, choice 0: challenge is not H(decrypt, ...)"]
    other = generate_key(TestStream("other"))
    assert verify_decryption_factors(ctx.election_hash, "t1", other.public, ["q1"], tally, entry)


def test_verify_ballots_matches_verify_ballot(ctx: ElectionContext) -> None:
    ballots = [
        encrypt_ballot(ctx, f"v{i}", {"q1": ["yes" if i % 2 else "no"]}, TestStream(f"m{i}"))
        for i in range(6)
    ]
    assert verify_ballots(ctx, ballots) == [[] for _ in ballots]
    twisted, _, _ = _twisted_ballot(ctx)
    ballots[3] = {**ballots[4], "alias": "v3"}  # copied under another alias
    ballots.append(twisted)
    verdicts = verify_ballots(ctx, ballots)
    assert verdicts == [verify_ballot(ctx, b) for b in ballots]
    assert [bool(v) for v in verdicts] == [False, False, False, True, False, False, True]
