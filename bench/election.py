"""Election core benchmark (issue 7).

    .venv/bin/python bench/election.py [--sizes 10000,100000] [--cache-dir /tmp/mebuku-bench]

For records of N single-question yes/no ballots (3 trustees) prints:
  * single-ballot verification rate (what the server does on receipt), 1 and all cores;
  * full record verification time (checks 1-10, all cores);
  * tally + trustee decryption + combination time;
each beside the raw ceiling: gmpy2 2048-bit/256-bit modular exponentiations per second on
this machine, times the exponentiations a naive check needs.  Records are generated once
through voting.simulate and cached as JSON under --cache-dir.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voting.election.arith import BACKEND_NAME, num, powmod  # noqa: E402
from voting.election.ballot_check import verify_ballot, verify_ballots  # noqa: E402
from voting.election.decryption import combine, decryption_factors  # noqa: E402
from voting.election.group import G, P, Q  # noqa: E402
from voting.election.keys import generate_key  # noqa: E402
from voting.election.model import ElectionContext  # noqa: E402
from voting.election.tally import tally  # noqa: E402
from voting.election.verifier import verify_record  # noqa: E402
from voting.simulate import simulate_election  # noqa: E402

# A yes/no ballot checked naively: alpha, beta of 2 choices tested for order q (4), and
# 5 proof entries (2 per choice, 1 overall) of 2 equations with 2 exponentiations each (20).
NAIVE_EXPS_PER_BALLOT = 24
CORES = os.cpu_count() or 1


def powmod_rate(seconds: float = 2.0) -> float:
    base = powmod(G, secrets.randbelow(int(Q)), P)
    exps = [num(secrets.randbelow(int(Q))) for _ in range(256)]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for e in exps:
            powmod(base, e, P)
        n += len(exps)
    return n / (time.perf_counter() - start)


def mulmod_rate(seconds: float = 1.0) -> float:
    xs = [powmod(G, secrets.randbelow(int(Q)), P) for _ in range(256)]
    acc, n, start = num(1), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for x in xs:
            acc = acc * x % P
        n += len(xs)
    return n / (time.perf_counter() - start)


def load_record(size: int, cache_dir: Path) -> tuple[dict[str, Any], str]:
    path = cache_dir / f"yesno-{size}.json"
    if path.exists():
        start = time.perf_counter()
        with path.open(encoding="utf-8") as fh:
            record = json.load(fh)
        return record, f"loaded {path} in {time.perf_counter() - start:.1f} s"
    cache_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    record = simulate_election(size, 3, "yesno")
    took = time.perf_counter() - start
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, separators=(",", ":")), encoding="utf-8")
    tmp.rename(path)
    return record, f"generated {path} in {took:.0f} s ({size / took:.0f} ballots/s, {CORES} cores)"


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children: robust to other jobs' load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


_CTX: ElectionContext | None = None
_BALLOTS: list[dict[str, Any]] = []


MICRO_BATCH = 100


def _verify_slice(job: tuple[int, int, bool]) -> int:
    """Ballots in [start, end) as the server would: one by one, or in micro-batches."""
    assert _CTX is not None
    start, end, batched = job
    bad = 0
    if batched:
        for s in range(start, end, MICRO_BATCH):
            chunk = _BALLOTS[s : min(s + MICRO_BATCH, end)]
            bad += sum(bool(v) for v in verify_ballots(_CTX, chunk))
    else:
        for ballot in _BALLOTS[start:end]:
            bad += bool(verify_ballot(_CTX, ballot))
    return bad


def single_ballot_rates(record: dict[str, Any], sample: int, batched: bool) -> tuple[float, float]:
    """Ballots/s on one core and on all cores (one server worker process per core)."""
    global _CTX, _BALLOTS
    _CTX = ElectionContext.from_record(record)
    _BALLOTS = record["ballots"][:sample]
    _verify_slice((0, 5, False))  # warm up the fixed-base tables
    start = time.perf_counter()
    assert _verify_slice((0, len(_BALLOTS), batched)) == 0
    one = len(_BALLOTS) / (time.perf_counter() - start)
    step = -(-len(_BALLOTS) // CORES)
    slices = [(s, s + step, batched) for s in range(0, len(_BALLOTS), step)]
    with multiprocessing.get_context("fork").Pool(CORES) as pool:
        start = time.perf_counter()
        assert sum(pool.map(_verify_slice, slices)) == 0
        many = len(_BALLOTS) / (time.perf_counter() - start)
    return one, many


def tally_and_decrypt(record: dict[str, Any]) -> tuple[float, int]:
    """The server's part after closing: tally counted ballots, 3 trustees decrypt, combine."""
    ctx = ElectionContext.from_record(record)
    keys = [generate_key() for _ in range(3)]  # stand-ins: timing only, not the record's keys
    start = time.perf_counter()
    counted = [b for b in record["ballots"] if b["counted"]]
    encrypted = tally(ctx.questions, counted)
    qids = [q.id for q in ctx.questions]
    entries = [
        decryption_factors(k.secret, f"t{i}", ctx.election_hash, qids, encrypted)
        for i, k in enumerate(keys)
    ]
    factors = [
        [[int(c["factor"], 16) for c in q["choices"]] for q in e["questions"]] for e in entries
    ]
    combine(encrypted, factors, 3 * len(counted))  # keys differ from the record's: timing only
    return time.perf_counter() - start, len(counted)


def verify_whole_record(record: dict[str, Any], size: int, rate: float) -> None:
    cpu_before, start = _cpu_seconds(), time.perf_counter()
    report = verify_record(record)
    took = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    assert report.ok, report.to_text()
    ceiling = size * NAIVE_EXPS_PER_BALLOT / (rate * CORES)
    print(
        f"full record verification (checks 1-10): {took:,.1f} s = {size / took:,.0f} "
        f"ballots/s, {cpu:,.1f} CPU-s = {cpu / CORES:,.1f} s if {CORES} cores were free "
        f"(naive ceiling {ceiling:,.1f} s on {CORES} cores); load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument(
        "--cache-dir", default=Path(tempfile.gettempdir()) / "mebuku-bench", type=Path
    )
    parser.add_argument("--single-sample", type=int, default=1000)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--parts",
        default="single,record,tally",
        help="any of single,record,tally (comma-separated)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.generate_only:
        for size in sizes:
            print(load_record(size, args.cache_dir)[1], flush=True)
        return 0

    rate = powmod_rate()
    mul = mulmod_rate()
    print(f"arithmetic: {BACKEND_NAME}; {CORES} cores; python {sys.version.split()[0]}")
    print(
        f"raw: {rate:,.0f} powmod/s per core (2048-bit modulus, 256-bit exponent), "
        f"{mul:,.0f} mulmod/s per core"
    )
    naive_single = rate / NAIVE_EXPS_PER_BALLOT
    print(
        f"ceiling, naive single-ballot check ({NAIVE_EXPS_PER_BALLOT} exps): "
        f"{naive_single:,.0f} ballots/s per core, {naive_single * CORES:,.0f} on {CORES} cores"
    )
    for size in sizes:
        print(f"\n== {size:,} yes/no ballots ==", flush=True)
        record, how = load_record(size, args.cache_dir)
        print(how)
        parts = set(args.parts.split(","))
        sample = min(args.single_sample, size)
        for batched, name in (
            ()
            if "single" not in parts
            else (
                (False, "verify_ballot, one at a time"),
                (True, f"verify_ballots, micro-batches of {MICRO_BATCH}"),
            )
        ):
            one, many = single_ballot_rates(record, sample, batched)
            print(
                f"single-ballot verification ({name}): {one:,.0f} ballots/s on 1 core, "
                f"{many:,.0f} ballots/s on {CORES} (naive ceiling {naive_single:,.0f} / "
                f"{naive_single * CORES:,.0f})",
                flush=True,
            )
        if "record" in parts:
            verify_whole_record(record, size, rate)
        if "tally" in parts:
            took, counted = tally_and_decrypt(record)
            # Tally: 2 mulmods per option per counted ballot (hex parsing not counted);
            # decryption: per trustee and option a factor and a proof (3 exponentiations).
            t_ceiling = 2 * 2 * counted / mul + 3 * 2 * 3 / rate
            print(
                f"tally + 3 trustees' decryption + combine: {took:,.2f} s "
                f"(ceiling {t_ceiling:,.2f} s on 1 core)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
