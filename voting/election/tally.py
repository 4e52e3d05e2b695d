"""Homomorphic tally: multiply the counted ballots' ciphertexts per option."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from voting.election.arith import num
from voting.election.encoding import FormatError, from_hex
from voting.election.group import P
from voting.election.model import Ciphertext, Question

EncryptedTally = list[list[Ciphertext]]  # [question][option]


def empty_tally(questions: Sequence[Question]) -> EncryptedTally:
    return [[Ciphertext(1, 1) for _ in q.option_ids] for q in questions]


def tally(
    questions: Sequence[Question], counted_ballots: Iterable[Mapping[str, Any]]
) -> EncryptedTally:
    """Encrypted tally of the given ballots (pass only those with counted: true)."""
    # Plain running products per option: this loop runs once per ballot and choice.
    shape = [len(q.option_ids) for q in questions]
    alphas = [[num(1)] * n for n in shape]
    betas = [[num(1)] * n for n in shape]
    for ballot in counted_ballots:
        answers = ballot["answers"]
        if len(answers) != len(questions):
            raise FormatError("ballot does not answer every question")
        for qi, (question, answer) in enumerate(zip(questions, answers, strict=True)):
            choices = answer.get("choices")
            if answer.get("question") != question.id or len(choices) != shape[qi]:
                raise FormatError(f"answer does not match question {question.id}")
            row_a, row_b = alphas[qi], betas[qi]
            for i, choice in enumerate(choices):
                row_a[i] = row_a[i] * from_hex(choice.get("alpha"), "alpha") % P
                row_b[i] = row_b[i] * from_hex(choice.get("beta"), "beta") % P
    return [
        [Ciphertext(a, b) for a, b in zip(ra, rb, strict=True)]
        for ra, rb in zip(alphas, betas, strict=True)
    ]


def tally_to_json(questions: Sequence[Question], encrypted: EncryptedTally) -> list[dict[str, Any]]:
    return [
        {"question": q.id, "choices": [ct.to_json() for ct in row]}
        for q, row in zip(questions, encrypted, strict=True)
    ]


def tally_from_json(questions: Sequence[Question], obj: object) -> EncryptedTally:
    if not isinstance(obj, list) or len(obj) != len(questions):
        raise FormatError("encrypted_tally does not list every question")
    result = []
    for q, entry in zip(questions, obj, strict=True):
        if not isinstance(entry, Mapping) or entry.get("question") != q.id:
            raise FormatError(f"encrypted_tally: expected question {q.id}")
        choices = entry.get("choices")
        if not isinstance(choices, list) or len(choices) != len(q.option_ids):
            raise FormatError(f"encrypted_tally: question {q.id} needs one entry per option")
        result.append([Ciphertext.from_json(c) for c in choices])
    return result
