"""Checks 1-10 of the election record spec over a whole record.

Ballot checks (4-6) dominate the cost; they run in chunks, each chunk's proofs verified as
one batch, spread over processes.  Everything else is cheap and done in the parent.
Only the standard library and (optionally) gmpy2 are imported along this path, so
`python -m voting.verify` runs on a journalist's laptop without the project installed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voting.election.ballot_check import CHECK_NAMES, Failure, ballot_label, check_ballot
from voting.election.batch import ChunkBatch
from voting.election.decryption import combine, decryption_proof_error, parse_factors
from voting.election.encoding import FormatError, from_hex
from voting.election.group import P, group_json
from voting.election.hashing import election_hash
from voting.election.model import Ciphertext, ElectionContext
from voting.election.schnorr import SchnorrProof, public_key_error
from voting.election.tally import EncryptedTally, empty_tally, tally_from_json

SPEC_VERSION = "mebuku-election-record/1"
CHUNK = 1000  # ballots per batch: large enough to amortise Pippenger's bucket sums
Progress = Callable[[int, int], None]


@dataclass
class Report:
    failures: list[Failure] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    option_ids: list[tuple[str, list[str]]] = field(default_factory=list)
    counted_ballots: int = 0
    cast_ballots: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def failed_checks(self) -> list[int]:
        return sorted({f.check for f in self.failures})

    def to_json(self) -> dict[str, Any]:
        failed = set(self.failed_checks())
        return {
            "ok": self.ok,
            "checks": [
                {"check": n, "name": CHECK_NAMES[n], "ok": n not in failed} for n in range(1, 11)
            ],
            "failures": [f.to_json() for f in self.failures],
            "results": self.results if self.ok else None,
            "counted_ballots": self.counted_ballots,
            "cast_ballots": self.cast_ballots,
        }

    def to_text(self, max_per_check: int = 20) -> str:
        lines = []
        shown: dict[int, int] = {}
        for f in self.failures:
            shown[f.check] = shown.get(f.check, 0) + 1
            if shown[f.check] <= max_per_check:
                lines.append(str(f))
        for check, n in sorted(shown.items()):
            if n > max_per_check:
                lines.append(
                    f"check {check} ({CHECK_NAMES[check]}): {n - max_per_check} more failures"
                )
        failed = set(self.failed_checks())
        for n in range(1, 11):
            lines.append(f"check {n:2d} ({CHECK_NAMES[n]}): {'FAILED' if n in failed else 'ok'}")
        if self.ok:
            lines.append("results:")
            for (qid, options), result in zip(self.option_ids, self.results, strict=True):
                counts = ", ".join(
                    f"{o} {c}" for o, c in zip(options, result["counts"], strict=True)
                )
                lines.append(f"  {qid}: {counts}")
            lines.append(f"counted ballots: {self.counted_ballots} (of {self.cast_ballots} cast)")
            lines.append("VERIFIED: every check holds")
        else:
            checks = ", ".join(str(n) for n in self.failed_checks())
            lines.append(f"NOT VERIFIED: failed check(s) {checks}")
        return "\n".join(lines)


# --- ballots (checks 4-6), parallel ---------------------------------------------------

_JOB: tuple[ElectionContext, Sequence[Any], bool] | None = None  # inherited by forked workers


def _verify_chunk(
    bounds: tuple[int, int],
) -> tuple[int, list[Failure], list[list[tuple[int, int]]]]:
    assert _JOB is not None
    ctx, ballots, strict = _JOB
    start, end = bounds
    batch = None if strict else ChunkBatch(ctx)
    failures: list[Failure] = []
    partial = empty_tally(ctx.questions)
    for index in range(start, end):
        ballot = ballots[index]
        found, cts = check_ballot(ctx, ballot, ballot_label(index, ballot), batch)
        failures += found
        if cts is not None and isinstance(ballot, Mapping) and ballot.get("counted") is True:
            for row, ballot_row in zip(partial, cts, strict=True):
                for i, ct in enumerate(ballot_row):
                    row[i] = row[i].times(ct)
    if batch is not None and not batch.holds():
        # Some equation in the chunk is false: find it the slow, exact way.
        failures = []
        for index in range(start, end):
            ballot = ballots[index]
            found, _ = check_ballot(ctx, ballot, ballot_label(index, ballot), None)
            failures += found
        if not failures:  # only with probability 2^-128, or a bug: never stay silent
            failures.append(Failure(5, f"ballots {start}..{end - 1}", "batched check fails"))
    plain = [[(int(ct.alpha), int(ct.beta)) for ct in row] for row in partial]
    return start, failures, plain


def _verify_ballots(
    ctx: ElectionContext,
    ballots: Sequence[Any],
    workers: int,
    progress: Progress | None,
    strict: bool,
) -> tuple[list[Failure], EncryptedTally]:
    global _JOB
    chunks = [(s, min(s + CHUNK, len(ballots))) for s in range(0, len(ballots), CHUNK)]
    if len(chunks) > 1 and len(chunks) < 2 * workers:  # keep every core busy
        size = max(1, -(-len(ballots) // (2 * workers)))
        chunks = [(s, min(s + size, len(ballots))) for s in range(0, len(ballots), size)]
    _JOB = (ctx, ballots, strict)
    outputs = []
    try:
        if workers <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                outputs.append(_verify_chunk(chunk))
                if progress:
                    progress(chunk[1], len(ballots))
        else:
            pool_ctx = multiprocessing.get_context("fork")
            with pool_ctx.Pool(workers) as pool:
                done = 0
                sizes = {start: end - start for start, end in chunks}
                for out in pool.imap_unordered(_verify_chunk, chunks):
                    outputs.append(out)
                    done += sizes[out[0]]
                    if progress:
                        progress(done, len(ballots))
    finally:
        _JOB = None
    outputs.sort(key=lambda out: out[0])
    failures = [f for _, found, _ in outputs for f in found]
    tally = empty_tally(ctx.questions)
    for _, _, partial in outputs:
        for row, part in zip(tally, partial, strict=True):
            for i, (alpha, beta) in enumerate(part):
                row[i] = row[i].times(Ciphertext(alpha, beta))
    return failures, tally


# --- the record -----------------------------------------------------------------------


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_trustees(record: Mapping[str, Any], report: Report) -> dict[str, int]:
    """Check 2; returns the public keys that parsed, by trustee id."""
    keys: dict[str, int] = {}
    trustees = record["trustees"]
    if not isinstance(trustees, list) or not trustees:
        report.failures.append(Failure(2, "trustees", "no trustees"))
        return keys
    joint = 1
    for i, t in enumerate(trustees):
        tid = t.get("id") if isinstance(t, Mapping) else None
        item = f"trustee {i} ({tid})"
        if not isinstance(tid, str):
            report.failures.append(Failure(2, item, "id is not a string"))
            continue
        if tid in keys:
            report.failures.append(Failure(2, item, "duplicate trustee id"))
            continue
        try:
            y = from_hex(t.get("public_key"), "public_key")
            problem = public_key_error(y, SchnorrProof.from_json(t.get("pok")))
        except FormatError as exc:
            report.failures.append(Failure(2, item, str(exc)))
            continue
        if problem:
            report.failures.append(Failure(2, item, problem))
        keys[tid] = y
        joint = joint * y % P
    try:
        given = from_hex(record["joint_public_key"], "joint_public_key")
    except FormatError as exc:
        report.failures.append(Failure(2, "joint_public_key", str(exc)))
        return keys
    if given != joint:
        report.failures.append(
            Failure(2, "joint_public_key", "is not the product of the trustees' keys")
        )
    return keys


def _check_eligibility(record: Mapping[str, Any], ballots: Sequence[Any], report: Report) -> None:
    roll = record["voter_roll"]
    aliases = roll.get("aliases") if isinstance(roll, Mapping) else None
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        report.failures.append(Failure(7, "voter_roll", "aliases is not a list of strings"))
        aliases = []
    size = roll.get("size") if isinstance(roll, Mapping) else None
    if size != len(aliases) or isinstance(size, bool):
        report.failures.append(
            Failure(7, "voter_roll", f"size is {size!r} but {len(aliases)} aliases are listed")
        )
    on_roll = set(aliases)
    if len(on_roll) != len(aliases):
        report.failures.append(Failure(7, "voter_roll", "aliases are not unique"))
    election = record["election"]
    opens, closes = _parse_time(election.get("opens_at")), _parse_time(election.get("closes_at"))
    if opens is None or closes is None:
        report.failures.append(
            Failure(7, "election", "opens_at/closes_at are not ISO 8601 with an offset")
        )
    last: dict[str, int] = {}
    previous: datetime | None = None
    for index, ballot in enumerate(ballots):
        if not isinstance(ballot, Mapping):
            continue
        label = ballot_label(index, ballot)
        alias = ballot.get("alias")
        if not isinstance(alias, str) or alias not in on_roll:
            report.failures.append(Failure(7, label, "alias is not on the voter roll"))
        else:
            last[alias] = index
        cast_at = _parse_time(ballot.get("cast_at"))
        if cast_at is None:
            report.failures.append(Failure(7, label, "cast_at is not ISO 8601 with an offset"))
            continue
        if previous is not None and cast_at < previous:
            report.failures.append(Failure(7, label, "cast_at is earlier than the ballot before"))
        previous = cast_at
        if opens is not None and closes is not None and not opens <= cast_at <= closes:
            report.failures.append(Failure(7, label, "cast outside the voting period"))
    for index, ballot in enumerate(ballots):
        if not isinstance(ballot, Mapping):
            continue
        alias = ballot.get("alias")
        should = isinstance(alias, str) and last.get(alias) == index
        counted = ballot.get("counted")
        if not isinstance(counted, bool):
            report.failures.append(
                Failure(7, ballot_label(index, ballot), "counted is not a boolean")
            )
        elif counted != should:
            why = (
                "is its voter's last ballot but not counted"
                if should
                else "is counted but is not its voter's last ballot on the roll"
            )
            report.failures.append(Failure(7, ballot_label(index, ballot), why))


def _check_decryptions(
    record: Mapping[str, Any],
    ctx: ElectionContext,
    keys: dict[str, int],
    tally: EncryptedTally,
    report: Report,
) -> list[list[list[int]]] | None:
    """Check 9; returns every trustee's factors when all entries are usable."""
    entries = record["decryptions"]
    if not isinstance(entries, list):
        report.failures.append(Failure(9, "decryptions", "is not a list"))
        return None
    trustee_ids = [t.get("id") for t in record["trustees"] if isinstance(t, Mapping)]
    by_id: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(entries):
        tid = entry.get("trustee") if isinstance(entry, Mapping) else None
        if not isinstance(tid, str) or tid not in trustee_ids or tid in by_id:
            report.failures.append(
                Failure(9, f"decryptions[{i}]", f"trustee {tid!r} unknown or listed twice")
            )
            continue
        assert isinstance(entry, Mapping)
        by_id[tid] = entry
    question_ids = [q.id for q in ctx.questions]
    all_factors: list[list[list[int]]] | None = []
    for tid in trustee_ids:
        item = f"trustee {tid}"
        entry = by_id.get(tid) if isinstance(tid, str) else None
        if entry is None or not isinstance(tid, str):
            report.failures.append(Failure(9, item, "did not decrypt the tally"))
            all_factors = None
            continue
        try:
            parsed = parse_factors(entry, question_ids, tally)
        except (FormatError, AttributeError, TypeError) as exc:
            report.failures.append(Failure(9, item, str(exc)))
            all_factors = None
            continue
        key = keys.get(tid)
        for q, row, factors in zip(ctx.questions, tally, parsed, strict=True):
            for oi, (ct, (factor, proof)) in enumerate(zip(row, factors, strict=True)):
                problem = (
                    "public key unusable (check 2)"
                    if key is None
                    else decryption_proof_error(ctx.election_hash, tid, key, ct, factor, proof)
                )
                if problem:
                    report.failures.append(
                        Failure(9, f"{item}, question {q.id}, choice {oi}", problem)
                    )
        if all_factors is not None:
            all_factors.append([[f for f, _ in row] for row in parsed])
    return all_factors


def _check_results(
    record: Mapping[str, Any],
    ctx: ElectionContext,
    tally: EncryptedTally,
    factors: list[list[list[int]]],
    counted: int,
    report: Report,
) -> None:
    counts = combine(tally, factors, counted)
    expected = []
    for q, row in zip(ctx.questions, counts, strict=True):
        for option, count in zip(q.option_ids, row, strict=True):
            if count is None:
                report.failures.append(
                    Failure(
                        10,
                        f"question {q.id}, option {option}",
                        f"B / prod(d_i) is not g^k for any 0 <= k <= {counted}",
                    )
                )
        expected.append({"question": q.id, "counts": row})
    if record["results"] != expected and all(c is not None for e in expected for c in e["counts"]):
        report.failures.append(
            Failure(10, "results", "published counts differ from the decrypted tally")
        )
    report.results = [dict(e) for e in expected]


REQUIRED = (
    "spec",
    "election",
    "group",
    "trustees",
    "joint_public_key",
    "election_hash",
    "voter_roll",
    "ballots",
    "encrypted_tally",
    "decryptions",
    "results",
)


def verify_record(
    record: Any,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> Report:
    """Run checks 1-10; the report lists every failure found (empty when valid).

    strict=True checks every proof equation on its own instead of in batches: about three
    times slower, and exactly the spec's arithmetic (see batch.py for the difference).
    """
    report = Report()
    if not isinstance(record, Mapping):
        report.failures.append(Failure(0, "record", "is not a JSON object"))
        return report
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        report.failures.append(Failure(0, "record", f"missing {', '.join(missing)}"))
        return report
    if record["spec"] != SPEC_VERSION:
        report.failures.append(Failure(0, "spec", f"is not {SPEC_VERSION}"))
        return report
    try:
        ctx = ElectionContext.from_record(record)
        if not isinstance(record["ballots"], list):
            raise FormatError("ballots is not a list")
    except (FormatError, KeyError, TypeError, AttributeError) as exc:
        report.failures.append(Failure(0, "election", f"unusable: {exc}"))
        return report
    report.option_ids = [(q.id, list(q.option_ids)) for q in ctx.questions]
    ballots: list[Any] = record["ballots"]
    report.cast_ballots = len(ballots)
    report.counted_ballots = sum(
        1 for b in ballots if isinstance(b, Mapping) and b.get("counted") is True
    )

    if record["group"] != group_json():  # 1
        report.failures.append(Failure(1, "group", "differs from the spec's constants"))
    keys = _check_trustees(record, report)  # 2
    recomputed = election_hash(
        record["election"], record["group"], record["trustees"], record["joint_public_key"]
    )
    if record["election_hash"] != recomputed:  # 3
        report.failures.append(Failure(3, "election_hash", f"recomputes as {recomputed}"))

    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    ballot_failures, computed_tally = _verify_ballots(
        ctx, ballots, n_workers, progress, strict
    )  # 4-6
    report.failures += ballot_failures
    seen: dict[str, int] = {}
    for index, ballot in enumerate(ballots):
        tracker = ballot.get("tracker") if isinstance(ballot, Mapping) else None
        if isinstance(tracker, str):
            if tracker in seen:
                report.failures.append(
                    Failure(
                        6, ballot_label(index, ballot), f"same tracker as ballot {seen[tracker]}"
                    )
                )
            seen.setdefault(tracker, index)
        else:
            report.failures.append(Failure(6, ballot_label(index, ballot), "tracker missing"))

    _check_eligibility(record, ballots, report)  # 7

    try:  # 8
        tally = tally_from_json(ctx.questions, record["encrypted_tally"])
    except FormatError as exc:
        report.failures.append(Failure(8, "encrypted_tally", str(exc)))
        return report
    for q, row, computed in zip(ctx.questions, tally, computed_tally, strict=True):
        for oi, (given, mine) in enumerate(zip(row, computed, strict=True)):
            if given != mine:
                report.failures.append(
                    Failure(
                        8,
                        f"question {q.id}, choice {oi}",
                        "is not the product of the counted ballots' ciphertexts",
                    )
                )

    factors = _check_decryptions(record, ctx, keys, tally, report)  # 9
    if factors is None:
        report.failures.append(Failure(10, "results", "cannot be checked without every factor"))
        return report
    _check_results(record, ctx, tally, factors, report.counted_ballots, report)  # 10
    return report
