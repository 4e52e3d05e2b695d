"""Run a complete election through the election core and write its record.

    python -m voting.simulate --voters 1000 --trustees 3 --questions yesno,choose:4:2 \\
        --revotes 50 --out record.json

The same library calls the server makes: trustee key generation with proofs, ballot
encryption with proofs, re-votes (last ballot counts), homomorphic tally, each trustee's
decryption factors, combination, record assembly.  `simulate_election()` is the function
form used by tests and bench/election.py.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from voting.election.ballot import encrypt_ballot
from voting.election.decryption import combine, decryption_factors
from voting.election.group import g_table
from voting.election.keys import TrusteeKey, generate_key
from voting.election.model import ElectionContext, key_table
from voting.election.record import ballot_entry, build_record, election_header, mark_counted
from voting.election.rng import RandomSource, SecureRandom, TestStream
from voting.election.tally import tally, tally_to_json

QUESTIONS_HELP = """\
comma-separated list of questions:
  yesno               options yes/no, exactly one (min 1, max 1)
  choose:N:K          N options, choose up to K (min 0, max K)
  choose:N:MIN:MAX    N options, choose between MIN and MAX
example: yesno,choose:4:2"""

JST = timezone(timedelta(hours=9))


def parse_questions(spec: str) -> list[dict[str, Any]]:
    questions = []
    for n, part in enumerate(filter(None, (p.strip() for p in spec.split(","))), start=1):
        fields = part.split(":")
        qid = f"q{n}"
        if fields == ["yesno"]:
            options, lo, hi = ["yes", "no"], 1, 1
        elif fields[0] == "choose" and len(fields) in (3, 4):
            count, *bounds = (int(f) for f in fields[1:])
            lo, hi = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
            options = [f"o{i}" for i in range(1, count + 1)]
            if not 0 <= lo <= hi <= count:
                raise ValueError(f"{part}: need 0 <= MIN <= MAX <= N")
        else:
            raise ValueError(f"cannot read question {part!r}")
        questions.append(
            {
                "id": qid,
                "text": f"Simulated question {n}",
                "min_selections": lo,
                "max_selections": hi,
                "options": [{"id": o, "text": o} for o in options],
            }
        )
    if not questions:
        raise ValueError("no questions")
    return questions


_CTX: ElectionContext | None = None  # inherited by forked encryption workers
_SEED: str | None = None


def _encrypt_job(job: tuple[int, str, dict[str, list[str]]]) -> dict[str, Any]:
    assert _CTX is not None
    index, alias, selections = job
    rng: RandomSource = TestStream(f"{_SEED}/{index}") if _SEED is not None else SecureRandom()
    return encrypt_ballot(_CTX, alias, selections, rng)


@dataclass
class SimulatedElection:
    record: dict[str, Any]
    expected_counts: list[list[int]]  # from the plaintext selections of counted ballots


def simulate_election(
    voters: int,
    trustees: int = 3,
    questions: str | Sequence[dict[str, Any]] = "yesno",
    revotes: int = 0,
    *,
    workers: int | None = None,
    seed: str | None = None,
    abstain: float = 0.0,
) -> dict[str, Any]:
    """A finished election's record.  `seed` makes it reproducible (tests only: the test
    stream is public, so its ballots are not secret); `abstain` is the share of voters on
    the roll who never vote."""
    return run_election(
        voters, trustees, questions, revotes, workers=workers, seed=seed, abstain=abstain
    ).record


def run_election(
    voters: int,
    trustees: int = 3,
    questions: str | Sequence[dict[str, Any]] = "yesno",
    revotes: int = 0,
    *,
    workers: int | None = None,
    seed: str | None = None,
    abstain: float = 0.0,
) -> SimulatedElection:
    """simulate_election() plus the counts the plaintexts say the result must be."""
    global _CTX, _SEED
    # A seeded generator makes a simulation reproducible; it chooses votes, not secrets.
    chooser = random.Random(seed) if seed is not None else random.SystemRandom()  # nosec B311
    key_rng = (
        (lambda name: TestStream(f"{seed}/{name}"))
        if seed is not None
        else (lambda name: SecureRandom())
    )
    question_list = parse_questions(questions) if isinstance(questions, str) else list(questions)
    opens = datetime(2026, 1, 10, 9, 0, tzinfo=JST)
    n_ballots = int(voters * (1 - abstain)) + revotes
    closes = opens + timedelta(seconds=n_ballots + 1, days=1)
    election = {
        "id": str(uuid.UUID(int=chooser.getrandbits(128), version=4)),
        "municipality": "simulated-city",
        "title": "Simulated election",
        "opens_at": opens.isoformat(),
        "closes_at": closes.isoformat(),
        "questions": question_list,
    }
    keys: list[TrusteeKey] = [generate_key(key_rng(f"key{i}")) for i in range(trustees)]
    trustee_entries = [
        {"id": f"t{i + 1}", **key.upload_json(key_rng(f"pok{i}"))} for i, key in enumerate(keys)
    ]
    header = election_header(election, trustee_entries)
    ctx = ElectionContext.from_record(header)

    aliases = [f"{chooser.getrandbits(128):032x}" for _ in range(voters)]
    voting = chooser.sample(aliases, int(voters * (1 - abstain)))
    if revotes and not voting:
        raise ValueError("re-votes need at least one voter who votes")
    sequence = voting + [chooser.choice(voting) for _ in range(revotes)]
    jobs = []
    for index, alias in enumerate(sequence):
        selections = {}
        for q in ctx.questions:
            k = chooser.randint(q.min_selections, q.max_selections)
            selections[q.id] = chooser.sample(list(q.option_ids), k)
        jobs.append((index, alias, selections))

    g_table()
    key_table(int(ctx.joint_public_key))  # built once, shared by forked workers
    _CTX, _SEED = ctx, seed
    try:
        n_workers = workers if workers is not None else (os.cpu_count() or 1)
        if n_workers <= 1 or len(jobs) < 50:
            encrypted = [_encrypt_job(job) for job in jobs]
        else:
            with multiprocessing.get_context("fork").Pool(n_workers) as pool:
                encrypted = pool.map(_encrypt_job, jobs, chunksize=64)
    finally:
        _CTX, _SEED = None, None

    ballots = [
        ballot_entry(b, (opens + timedelta(seconds=i + 1)).isoformat())
        for i, b in enumerate(encrypted)
    ]
    mark_counted(ballots)
    encrypted_tally = tally(ctx.questions, (b for b in ballots if b["counted"]))
    question_ids = [q.id for q in ctx.questions]
    decryptions = [
        decryption_factors(
            key.secret,
            entry["id"],
            ctx.election_hash,
            question_ids,
            encrypted_tally,
            key_rng(f"decrypt{i}"),
        )
        for i, (key, entry) in enumerate(zip(keys, trustee_entries, strict=True))
    ]
    factors = [
        [[int(c["factor"], 16) for c in q["choices"]] for q in d["questions"]] for d in decryptions
    ]
    counted = sum(1 for b in ballots if b["counted"])
    counts = combine(encrypted_tally, factors, counted)
    results = [
        {"question": qid, "counts": row} for qid, row in zip(question_ids, counts, strict=True)
    ]
    last_selections = {alias: selections for _, alias, selections in jobs}
    expected = [
        [sum(o in s[q.id] for s in last_selections.values()) for o in q.option_ids]
        for q in ctx.questions
    ]
    record = build_record(
        header,
        aliases,
        ballots,
        tally_to_json(ctx.questions, encrypted_tally),
        decryptions,
        results,
    )
    return SimulatedElection(record, expected)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voting.simulate",
        description="Simulate a complete election and write its record.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=QUESTIONS_HELP,
    )
    parser.add_argument("--voters", type=int, required=True, help="voters on the roll")
    parser.add_argument("--trustees", type=int, default=3)
    parser.add_argument("--questions", default="yesno", help="see below (default: yesno)")
    parser.add_argument("--revotes", type=int, default=0, help="extra ballots by earlier voters")
    parser.add_argument("--abstain", type=float, default=0.0, help="share of the roll not voting")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--seed", default=None, help="reproducible run (NOT secret; tests only)")
    parser.add_argument("--out", required=True, help="record file to write ('-' for stdout)")
    args = parser.parse_args(argv)
    try:
        record = simulate_election(
            args.voters,
            args.trustees,
            args.questions,
            args.revotes,
            workers=args.workers,
            seed=args.seed,
            abstain=args.abstain,
        )
    except ValueError as exc:
        parser.error(str(exc))
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(
            f"wrote {args.out}: {len(record['ballots'])} ballots, results "
            + json.dumps(record["results"]),
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
