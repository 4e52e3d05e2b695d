"""Disjunctive Chaum-Pedersen proofs that a ciphertext encrypts a value in {lo..hi}.

Construction follows docs/election-core-contract.md step by step, including the order in
which it draws randomness, so the browser encoder produces the same bytes.  Verification
here is the spec's equations one by one; batch.py has the fast equivalent.
"""

from __future__ import annotations

from collections.abc import Sequence

from voting.election.arith import powmod
from voting.election.group import P, Q, g_inverse_pow, g_pow
from voting.election.hashing import fs_hash
from voting.election.model import Ciphertext, ElectionContext, ProofEntry
from voting.election.rng import RandomSource


def range_challenge(
    ctx: ElectionContext,
    alias: str,
    question_id: str,
    ct: Ciphertext,
    commitments: Sequence[tuple[int, int]],
) -> int:
    """H("range", election_hash, alias, question_id, alpha, beta, a_L, b_L, ..., a_U, b_U)."""
    flat = [x for pair in commitments for x in pair]
    return fs_hash("range", ctx.election_hash, alias, question_id, ct.alpha, ct.beta, *flat)


def prove_range(
    ctx: ElectionContext,
    alias: str,
    question_id: str,
    ct: Ciphertext,
    value: int,
    rho: int,
    lo: int,
    hi: int,
    rng: RandomSource,
) -> list[ProofEntry]:
    if not lo <= value <= hi:
        raise ValueError(f"value {value} outside {lo}..{hi}: no honest proof exists")
    # (beta * g^-j) for each j: what y^rho would be if the plaintext were j.
    commitments: list[tuple[int, int]] = []
    simulated: dict[int, tuple[int, int]] = {}
    w = 0
    for j in range(lo, hi + 1):
        if j == value:
            w = rng.draw()
            commitments.append((g_pow(w), ctx.y_pow(w)))
        else:
            c_j = rng.draw()
            r_j = rng.draw()
            simulated[j] = (c_j, r_j)
            neg_c = (Q - c_j) % Q
            shifted_beta = ct.beta * g_inverse_pow(j) % P
            a_j = g_pow(r_j) * powmod(ct.alpha, neg_c, P) % P
            b_j = ctx.y_pow(r_j) * powmod(shifted_beta, neg_c, P) % P
            commitments.append((a_j, b_j))
    c = range_challenge(ctx, alias, question_id, ct, commitments)
    c_value = (c - sum(c_j for c_j, _ in simulated.values())) % Q
    r_value = (w + c_value * rho) % Q
    entries = []
    for j, (a_j, b_j) in zip(range(lo, hi + 1), commitments, strict=True):
        c_j, r_j = (c_value, r_value) if j == value else simulated[j]
        entries.append(ProofEntry(a_j, b_j, c_j, r_j))
    return entries


def range_proof_error(
    ctx: ElectionContext,
    alias: str,
    question_id: str,
    ct: Ciphertext,
    proof: Sequence[ProofEntry],
    lo: int,
    hi: int,
) -> str | None:
    """The spec's check 5 for one proof, equation by equation; None when it holds."""
    if len(proof) != hi - lo + 1:
        return f"proof has {len(proof)} entries, expected {hi - lo + 1}"
    for j, e in zip(range(lo, hi + 1), proof, strict=True):
        if not (0 < e.a < P and 0 < e.b < P):
            return f"commitment for {j} out of range"
        if g_pow(e.r) != e.a * powmod(ct.alpha, e.c, P) % P:
            return f"g-side equation for value {j} fails"
        shifted_beta = ct.beta * g_inverse_pow(j) % P
        if ctx.y_pow(e.r) != e.b * powmod(shifted_beta, e.c, P) % P:
            return f"y-side equation for value {j} fails"
    expected = range_challenge(ctx, alias, question_id, ct, [(e.a, e.b) for e in proof])
    if sum(e.c for e in proof) % Q != expected:
        return "challenges do not sum to the Fiat-Shamir hash"
    return None
