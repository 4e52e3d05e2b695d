"""Ballot test vectors shared with the JavaScript encoder.

    python -m voting.election.vectors --out tests/election/vectors/ballots.json

Each case fixes seed, election hash, joint key, alias, questions and selections; the
expected ballot is what encrypt_ballot produces with the contract's TestStream(seed).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from voting.election.ballot import encrypt_ballot_with_tracker
from voting.election.encoding import sha256_hex, to_hex
from voting.election.group import g_pow
from voting.election.model import ElectionContext
from voting.election.rng import TestStream

ELECTION_HASH = sha256_hex(b"mebuku test vectors v1")
YES_NO = {"id": "q1", "min_selections": 1, "max_selections": 1, "options": ["yes", "no"]}
CHOOSE_2_OF_4 = {
    "id": "q2",
    "min_selections": 0,
    "max_selections": 2,
    "options": ["a", "b", "c", "d"],
}
CHOOSE_1_2_OF_3 = {"id": "q3", "min_selections": 1, "max_selections": 2, "options": ["x", "y", "z"]}

CASES: list[tuple[str, list[dict[str, Any]], dict[str, list[str]]]] = [
    ("yes-no-yes", [YES_NO], {"q1": ["yes"]}),
    ("yes-no-no", [YES_NO], {"q1": ["no"]}),
    ("choose-up-to-2-none", [CHOOSE_2_OF_4], {"q2": []}),
    ("choose-up-to-2-two", [CHOOSE_2_OF_4], {"q2": ["b", "d"]}),
    ("two-questions", [YES_NO, CHOOSE_1_2_OF_3], {"q1": ["no"], "q3": ["z"]}),
]


def joint_public_key() -> str:
    return to_hex(g_pow(TestStream("vector-joint-key").draw()))


def generate() -> list[dict[str, Any]]:
    key = joint_public_key()
    cases = []
    for seed, questions, selections in CASES:
        alias = f"alias-{seed}"
        ctx = ElectionContext.from_parts(ELECTION_HASH, key, questions)
        ballot, tracker = encrypt_ballot_with_tracker(ctx, alias, selections, TestStream(seed))
        cases.append(
            {
                "seed": seed,
                "election_hash": ELECTION_HASH,
                "joint_public_key": key,
                "alias": alias,
                "questions": questions,
                "selections": selections,
                "expected_ballot": ballot,
                "expected_tracker": tracker,
            }
        )
    return cases


def render(cases: list[dict[str, Any]]) -> str:
    return json.dumps(cases, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voting.election.vectors")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(render(generate()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
