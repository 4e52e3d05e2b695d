"""Checks 4-6 of the spec for one ballot, shared by the record verifier and the server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voting.election.batch import ChunkBatch, plausible_member
from voting.election.encoding import FormatError
from voting.election.group import Q, is_member
from voting.election.hashing import ballot_tracker
from voting.election.model import Ciphertext, ElectionContext, ProofEntry, product, proof_from_json
from voting.election.range_proof import range_challenge, range_proof_error

CHECK_NAMES = {
    0: "format",
    1: "group",
    2: "trustees",
    3: "election hash",
    4: "encryption",
    5: "range proofs",
    6: "trackers",
    7: "eligibility",
    8: "encrypted tally",
    9: "decryptions",
    10: "results",
}


@dataclass(frozen=True, slots=True)
class Failure:
    check: int
    item: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"check {self.check} ({CHECK_NAMES[self.check]}) failed: {self.item}"
        return f"{text}: {self.detail}" if self.detail else text

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "name": CHECK_NAMES[self.check],
            "item": self.item,
            "detail": self.detail,
        }


@dataclass
class _Answer:
    question_index: int
    cts: list[Ciphertext]
    proofs: list[list[ProofEntry]]
    overall: list[ProofEntry]


def ballot_label(index: int | None, ballot: Mapping[str, Any]) -> str:
    tracker = ballot.get("tracker") if isinstance(ballot, Mapping) else None
    shown = f" (tracker {tracker[:12]}…)" if isinstance(tracker, str) else ""
    return f"ballot{'' if index is None else f' {index}'}{shown}"


def _parse(ctx: ElectionContext, ballot: Mapping[str, Any]) -> list[_Answer]:
    if not isinstance(ballot.get("alias"), str):
        raise FormatError("alias is not a string")
    answers = ballot.get("answers")
    if not isinstance(answers, list) or len(answers) != len(ctx.questions):
        raise FormatError("does not answer each question exactly once")
    parsed = []
    for qi, (question, answer) in enumerate(zip(ctx.questions, answers, strict=True)):
        if not isinstance(answer, Mapping) or answer.get("question") != question.id:
            raise FormatError(f"answer {qi} is not for question {question.id}")
        choices = answer.get("choices")
        if not isinstance(choices, list) or len(choices) != len(question.option_ids):
            raise FormatError(f"question {question.id}: needs one choice per option")
        cts, proofs = [], []
        for choice in choices:
            cts.append(Ciphertext.from_json(choice))
            proofs.append(proof_from_json(choice.get("proof"), 2))
        overall = proof_from_json(
            answer.get("overall_proof"), question.max_selections - question.min_selections + 1
        )
        parsed.append(_Answer(qi, cts, proofs, overall))
    return parsed


def check_ballot(
    ctx: ElectionContext,
    ballot: Mapping[str, Any],
    label: str,
    batch: ChunkBatch | None,
) -> tuple[list[Failure], list[list[Ciphertext]] | None]:
    """Failures of checks 4-6 and the ballot's ciphertexts ([question][option]).

    Without a batch every equation and every x^q = 1 is checked on its own.  With one, the
    exponentiation-free parts are checked here and the rest is only *queued*: the caller
    must call batch.holds() and, if it fails, run this again without a batch to name the
    failing items.
    """
    if not isinstance(ballot, Mapping):
        return [Failure(4, label, "ballot is not an object")], None
    try:
        answers = _parse(ctx, ballot)
    except (FormatError, AttributeError, TypeError) as exc:
        return [Failure(4, label, f"malformed: {exc}")], None
    if batch is not None and not all(
        plausible_member(x) for ans in answers for ct in ans.cts for x in (ct.alpha, ct.beta)
    ):
        return check_ballot(ctx, ballot, label, None)  # a broken ballot: name everything
    failures: list[Failure] = []
    alias: str = ballot["alias"]
    for ans in answers:
        question = ctx.questions[ans.question_index]
        where = f"{label}, question {question.id}"
        members = True
        if batch is None:
            for i, ct in enumerate(ans.cts):
                for name, x in (("alpha", ct.alpha), ("beta", ct.beta)):
                    if not is_member(x):
                        failures.append(
                            Failure(4, f"{where}, choice {i}", f"{name} not of order q")
                        )
                        members = False
        statements = [
            (f"{where}, choice {i}", [i], proof, 0, 1) for i, proof in enumerate(ans.proofs)
        ]
        statements.append(
            (
                f"{where}, overall proof",
                list(range(len(ans.cts))),
                ans.overall,
                question.min_selections,
                question.max_selections,
            )
        )
        handles = [batch.add_ciphertext(ct) for ct in ans.cts] if batch else []
        for item, indices, proof, lo, hi in statements:
            ct = product([ans.cts[i] for i in indices])
            if batch is None:
                problem = range_proof_error(ctx, alias, question.id, ct, proof, lo, hi)
                if problem and not members:
                    problem += " (with a ciphertext outside the subgroup)"
            else:
                problem = _queue_proof(batch, ctx, alias, question.id, ct, proof)
                if problem is None:
                    batch.add_range_proof([handles[i] for i in indices], proof, lo)
            if problem:
                failures.append(Failure(5, item, problem))
    if "tracker" in ballot and ballot["tracker"] != ballot_tracker(ballot):
        failures.append(Failure(6, label, "tracker is not SHA-256 of canonical(alias, answers)"))
    return failures, [ans.cts for ans in answers]


def _queue_proof(
    batch: ChunkBatch,
    ctx: ElectionContext,
    alias: str,
    question_id: str,
    ct: Ciphertext,
    proof: list[ProofEntry],
) -> str | None:
    """The exact, exponentiation-free part of check 5; the rest goes to the batch.

    A valid proof's commitments are in the subgroup (g^r * alpha^-c is), so they join the
    membership rounds: that is what makes the batched equations exactly the spec's.
    """
    for e in proof:
        if not (plausible_member(e.a) and plausible_member(e.b)):
            return "commitment is not in the order-q subgroup (not a square mod p)"
    expected = range_challenge(ctx, alias, question_id, ct, [(e.a, e.b) for e in proof])
    if sum(e.c for e in proof) % Q != expected:
        return "challenges do not sum to the Fiat-Shamir hash"
    return None


def verify_ballot(ctx: ElectionContext, ballot: Mapping[str, Any]) -> list[str]:
    """Checks 4-6 for one ballot as received; the empty list means it is valid.

    The server calls this on receipt.  It checks every equation on its own: for a single
    ballot that is cheaper than batching (whose subgroup test needs a fixed number of
    exponentiations), and it is exact, so a ballot accepted here never fails the record
    verifier later.  The tracker, when the ballot carries one, must be the recomputed one.
    """
    failures, _ = check_ballot(ctx, ballot, "ballot", None)
    return [str(f) for f in failures]


def verify_ballots(ctx: ElectionContext, ballots: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """verify_ballot for many ballots at once (e.g. those received in the last second).

    Batched, so about three times cheaper per ballot than verify_ballot from ~100 ballots
    on; when the batch fails, the ballots are re-checked one by one, so the verdicts are
    exactly verify_ballot's.
    """
    batch = ChunkBatch(ctx)
    found = [check_ballot(ctx, ballot, "ballot", batch)[0] for ballot in ballots]
    if not batch.holds():
        found = [check_ballot(ctx, ballot, "ballot", None)[0] for ballot in ballots]
    return [[str(f) for f in failures] for failures in found]
