"""The committed test vectors are reproducible and every expected ballot verifies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from voting.election.ballot_check import verify_ballot
from voting.election.hashing import ballot_tracker
from voting.election.model import ElectionContext
from voting.election.vectors import generate, render

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "election" / "vectors" / "ballots.json"


def test_committed_vectors_regenerate_exactly() -> None:
    assert render(generate()) == VECTORS.read_text(encoding="utf-8")


def test_expected_ballots_verify() -> None:
    cases = json.loads(VECTORS.read_text())
    assert len(cases) >= 5
    for case in cases:
        ctx = ElectionContext.from_parts(
            case["election_hash"], case["joint_public_key"], case["questions"]
        )
        assert verify_ballot(ctx, case["expected_ballot"]) == [], case["seed"]
        assert ballot_tracker(case["expected_ballot"]) == case["expected_tracker"]
        tampered = {**case["expected_ballot"], "alias": "someone-else"}
        assert verify_ballot(ctx, tampered), case["seed"]


@pytest.mark.node
def test_javascript_encoder_matches() -> None:
    script = ROOT / "tests" / "election" / "js" / "run_vectors.mjs"
    done = subprocess.run(
        ["node", str(script), str(VECTORS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
