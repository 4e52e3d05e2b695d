"""Trustee decryption factors, their Chaum-Pedersen proofs, and combining them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voting.election.arith import invert, powmod
from voting.election.dlog import SmallDiscreteLog
from voting.election.encoding import FormatError, from_hex, to_hex
from voting.election.group import P, Q, g_pow
from voting.election.hashing import fs_hash
from voting.election.model import Ciphertext, ProofEntry
from voting.election.rng import RandomSource, SecureRandom

Tally = Sequence[Sequence[Ciphertext]]  # [question][option]


def _decrypt_challenge(
    election_hash: str, trustee_id: str, ct: Ciphertext, factor: int, a: int, b: int
) -> int:
    return fs_hash("decrypt", election_hash, trustee_id, ct.alpha, ct.beta, factor, a, b)


def decryption_factors(
    secret: int,
    trustee_id: str,
    election_hash: str,
    question_ids: Sequence[str],
    tally: Tally,
    rng: RandomSource | None = None,
) -> dict[str, Any]:
    """The record's `decryptions` entry for one trustee: d = A^x with its proof."""
    source = rng or SecureRandom()
    questions = []
    for qid, row in zip(question_ids, tally, strict=True):
        choices = []
        for ct in row:
            factor = powmod(ct.alpha, secret, P)
            w = source.draw()
            a, b = g_pow(w), powmod(ct.alpha, w, P)
            c = _decrypt_challenge(election_hash, trustee_id, ct, factor, a, b)
            proof = ProofEntry(a, b, c, (w + c * secret) % Q)
            choices.append({"factor": to_hex(factor), "proof": proof.to_json()})
        questions.append({"question": qid, "choices": choices})
    return {"trustee": trustee_id, "questions": questions}


def decryption_proof_error(
    election_hash: str,
    trustee_id: str,
    public_key: int,
    ct: Ciphertext,
    factor: int,
    proof: ProofEntry,
) -> str | None:
    """Spec check 9 for one factor; None when it holds."""
    if not (0 < factor < P and 0 < proof.a < P and 0 < proof.b < P):
        return "factor or commitment out of range"
    if proof.c != _decrypt_challenge(election_hash, trustee_id, ct, factor, proof.a, proof.b):
        return "challenge is not H(decrypt, ...)"
    if g_pow(proof.r) != proof.a * powmod(public_key, proof.c, P) % P:
        return "g^r != a * y_i^c"
    if powmod(ct.alpha, proof.r, P) != proof.b * powmod(factor, proof.c, P) % P:
        return "A^r != b * d^c"
    return None


def parse_factors(
    entry: Mapping[str, Any], question_ids: Sequence[str], tally: Tally
) -> list[list[tuple[int, ProofEntry]]]:
    """[question][option] -> (factor, proof); FormatError names what does not fit."""
    questions = entry.get("questions")
    if not isinstance(questions, list) or len(questions) != len(question_ids):
        raise FormatError("does not decrypt every question")
    parsed = []
    for qid, row, q in zip(question_ids, tally, questions, strict=True):
        if not isinstance(q, Mapping) or q.get("question") != qid:
            raise FormatError(f"expected question {qid}")
        choices = q.get("choices")
        if not isinstance(choices, list) or len(choices) != len(row):
            raise FormatError(f"question {qid}: does not decrypt every option")
        parsed.append(
            [
                (from_hex(ch.get("factor"), "factor"), ProofEntry.from_json(ch.get("proof")))
                if isinstance(ch, Mapping)
                else _bad_choice()
                for ch in choices
            ]
        )
    return parsed


def _bad_choice() -> tuple[int, ProofEntry]:
    raise FormatError("decryption choice is not an object")


def verify_decryption_factors(
    election_hash: str,
    trustee_id: str,
    public_key: int,
    question_ids: Sequence[str],
    tally: Tally,
    entry: Mapping[str, Any],
) -> list[str]:
    """Errors in one trustee's `decryptions` entry (empty when all factors check out)."""
    if entry.get("trustee") != trustee_id:
        return [f"entry is for trustee {entry.get('trustee')!r}, expected {trustee_id!r}"]
    try:
        parsed = parse_factors(entry, question_ids, tally)
    except FormatError as exc:
        return [str(exc)]
    errors = []
    for qid, row, factors in zip(question_ids, tally, parsed, strict=True):
        for index, (ct, (factor, proof)) in enumerate(zip(row, factors, strict=True)):
            problem = decryption_proof_error(
                election_hash, trustee_id, public_key, ct, factor, proof
            )
            if problem:
                errors.append(f"question {qid}, choice {index}: {problem}")
    return errors


def combine(
    tally: Tally, factors: Sequence[Sequence[Sequence[int]]], max_count: int
) -> list[list[int | None]]:
    """Counts from the tally and every trustee's factors ([trustee][question][option]).

    A count is None when B / prod(d_i) is not g^k for any 0 <= k <= max_count, i.e. some
    factor is wrong.
    """
    dlog = SmallDiscreteLog(max_count)
    counts: list[list[int | None]] = []
    for qi, row in enumerate(tally):
        out: list[int | None] = []
        for oi, ct in enumerate(row):
            d = 1
            for trustee in factors:
                d = d * trustee[qi][oi] % P
            out.append(dlog.find(ct.beta * invert(d, P) % P))
        counts.append(out)
    return counts
