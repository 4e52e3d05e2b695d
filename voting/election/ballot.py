"""Ballot encryption: the Python twin of voting/static/voting/js/election.mjs.

Read together with docs/election-core-contract.md.  With the same randomness source both
sides must produce byte-identical ballots, so the order of `rng.draw()` calls below is
part of the contract:

    for each question (election order):
        for each option (option order):
            rho                      -- the choice's encryption randomness
            draws of its {0,1} proof  -- see range_proof.prove_range
        draws of the question's overall proof over {min..max}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from voting.election.elgamal import encrypt
from voting.election.group import Q
from voting.election.hashing import ballot_tracker
from voting.election.model import Ciphertext, ElectionContext, Question, product
from voting.election.range_proof import prove_range
from voting.election.rng import RandomSource, SecureRandom


def encrypt_answer(
    ctx: ElectionContext,
    alias: str,
    question: Question,
    selected: Collection[str],
    rng: RandomSource,
) -> dict[str, Any]:
    unknown = set(selected) - set(question.option_ids)
    if unknown:
        raise ValueError(f"question {question.id}: unknown options {sorted(unknown)}")
    if len(set(selected)) != len(selected):
        raise ValueError(f"question {question.id}: an option is selected twice")
    count = len(selected)
    if not question.min_selections <= count <= question.max_selections:
        raise ValueError(
            f"question {question.id}: {count} selections, allowed "
            f"{question.min_selections}..{question.max_selections}"
        )

    choices = []
    ciphertexts: list[Ciphertext] = []
    rho_sum = 0
    for option_id in question.option_ids:
        vote = 1 if option_id in selected else 0
        rho = rng.draw()
        ct = encrypt(ctx, vote, rho)
        proof = prove_range(ctx, alias, question.id, ct, vote, rho, 0, 1, rng)
        choices.append({**ct.to_json(), "proof": [entry.to_json() for entry in proof]})
        ciphertexts.append(ct)
        rho_sum = (rho_sum + rho) % Q

    # The product of the choices encrypts the number of selections under sum(rho).
    overall_ct = product(ciphertexts)
    overall = prove_range(
        ctx,
        alias,
        question.id,
        overall_ct,
        count,
        rho_sum,
        question.min_selections,
        question.max_selections,
        rng,
    )
    return {
        "question": question.id,
        "choices": choices,
        "overall_proof": [entry.to_json() for entry in overall],
    }


def encrypt_ballot(
    ctx: ElectionContext,
    alias: str,
    selections: Mapping[str, Collection[str]],
    rng: RandomSource | None = None,
) -> dict[str, Any]:
    """{"alias", "answers"} for the given selections ({question_id: [option ids]}).

    A question missing from `selections` is answered with no option selected (allowed
    only when its min_selections is 0).
    """
    unknown = set(selections) - {q.id for q in ctx.questions}
    if unknown:
        raise ValueError(f"unknown questions {sorted(unknown)}")
    source = rng if rng is not None else SecureRandom()
    answers = [
        encrypt_answer(ctx, alias, q, list(selections.get(q.id, ())), source) for q in ctx.questions
    ]
    return {"alias": alias, "answers": answers}


def encrypt_ballot_with_tracker(
    ctx: ElectionContext,
    alias: str,
    selections: Mapping[str, Collection[str]],
    rng: RandomSource | None = None,
) -> tuple[dict[str, Any], str]:
    ballot = encrypt_ballot(ctx, alias, selections, rng)
    return ballot, ballot_tracker(ballot)


__all__ = ["ballot_tracker", "encrypt_answer", "encrypt_ballot", "encrypt_ballot_with_tracker"]
