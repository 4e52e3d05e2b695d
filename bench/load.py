"""Mixed load (issue 14): browse 70 %, sign 15 %, debate 10 %, vote 5 %, with locust, headless.

    .venv/bin/python bench/load.py [--seconds 300] [--users 50] [--rate 2] [--workers 2] [--quick]

Loopback only, bounded in time. It
  1. drops and recreates the database `mebuku_bench_load` on 127.0.0.1:5432 (as the other
     benches) and starts a redis-server of its own (port 56380);
  2. seeds one municipality with the signing bench's residents and proposals
     (`bench/signatures.py`), the casting bench's frozen election and voters (`bench/cast.py`,
     ballots encrypted beforehand) and a debate in its converge phase with published statements;
  3. starts the production configuration: uvicorn (bench/harness.py), a Celery worker and beat;
  4. runs `locust --headless` with `bench/locustfile.py`: `--users` users, each sending `--rate`
     requests per second (70 % public pages and API reads, 15 % signatures, 10 % debate votes,
     5 % ballots; each act a different person's) for `--seconds`;
  5. prints requests/s, p50/p95/p99 and failures per endpoint, and CPU by process group, then
     checks the database: one signature per person, counters == rows, one counted ballot per
     voter, statement counters == votes. Exits non-zero on any failed request or check.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import PG_SERVER, SERVER_EXTRA, production_env  # noqa: E402

DB_NAME = "mebuku_bench_load"
REDIS_PORT = int(os.environ.get("MEBUKU_LOAD_REDIS_PORT", "56380"))
SLUG = "bench-city"
SERVER_ENV = production_env(
    f"{PG_SERVER}/{DB_NAME}", f"redis://127.0.0.1:{REDIS_PORT}/0", **SERVER_EXTRA
)
os.environ.update(SERVER_ENV)

import django  # noqa: E402

# This bench's settings first: bench.signatures and bench.cast point the environment at their own
# database when imported, after Django has read ours; the environment is put back right after.
django.setup()

from bench import cast, signatures  # noqa: E402
from bench.harness import (  # noqa: E402
    HOST,
    CpuMeter,
    RedisProcess,
    Server,
    recreate_database,
    start_celery,
    stop_process,
)

os.environ.update(SERVER_ENV)

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count, F, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from debates.models import Statement, StatementOrigin, StatementStatus, Vote  # noqa: E402
from debates.services.setup import DebateDraft, PhaseSpec, debate_create, phases_set  # noqa: E402
from identity.models import Municipality, Role  # noqa: E402
from proposals.models import Proposal, Signature  # noqa: E402
from voting.models import Ballot  # noqa: E402

STATEMENTS = 20


def _children_ticks() -> int:
    """CPU of waited-for child processes (locust, once it has exited), in clock ticks."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK"))


def seed_debate(municipality: Municipality, moderator_email: str) -> tuple[int, list[int]]:
    """A debate in its converge phase with published statements, made through the services."""
    from tests.factories import staff

    moderator = staff(municipality, Role.MODERATOR, email=moderator_email)
    debate = debate_create(
        actor=moderator,
        municipality=municipality,
        draft=DebateDraft(question="駅前広場をどう使う？", background="ベンチマーク用の討議"),
    )
    now = timezone.now()
    phases_set(
        actor=moderator,
        debate_id=debate.pk,
        phases=[PhaseSpec("converge", now - timedelta(days=1), now + timedelta(days=7))],
    )
    statements = Statement.objects.bulk_create(
        Statement(
            debate=debate,
            text=f"意見 {i}: 広場に屋根を付けるべきだ",
            origin=StatementOrigin.MODERATOR,
            author=moderator,
            status=StatementStatus.PUBLISHED,
            moderated_at=now,
            moderated_by=moderator,
        )
        for i in range(STATEMENTS)
    )
    return debate.pk, [s.pk for s in statements]


def browse_urls(proposals: Sequence[int], debate_id: int, election_id: int) -> list[list[str]]:
    """(name, path) of the public reads: pages a resident opens and what the API serves."""
    m, api = f"/m/{SLUG}", f"/api/v1/municipalities/{SLUG}"
    urls = [
        ["GET home", "/"],
        ["GET proposals (page)", f"{m}/proposals/"],
        ["GET debate (page)", f"{m}/debates/{debate_id}/"],
        ["GET election (page)", f"{m}/elections/{election_id}/"],
        ["GET proposals (API)", f"{api}/proposals"],
        ["GET debate statements (API)", f"{api}/debates/{debate_id}/statements"],
        ["GET election (API)", f"{api}/elections/{election_id}"],
    ]
    # Proposal pages are what people open most: one per proposal, in turn.
    for pid in proposals:
        urls.append(["GET proposal (page)", f"{m}/proposals/{pid}/"])
        urls.append(["GET proposal (API)", f"{api}/proposals/{pid}"])
    return urls


def report(stats_csv: Path, failures_csv: Path) -> tuple[int, int]:
    """Print locust's per-endpoint figures; returns (requests, failures)."""
    rows = list(csv.DictReader(stats_csv.open()))
    print(
        f"\n  {'endpoint':<34} {'requests':>8} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
        f" {'max':>7} {'failed':>6}"
    )
    total = failed = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all"
        if row["Type"] == "SKIP":
            print(f"  {name:<34} {row['Request Count']:>8}")
            continue
        if name != "all":
            total += int(row["Request Count"])
            failed += int(row["Failure Count"])
        print(
            f"  {name:<34} {row['Request Count']:>8} {float(row['Requests/s']):>7.1f}"
            f" {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
            f" {float(row['Max Response Time']):>7.0f} {row['Failure Count']:>6}"
        )
    print("  (latencies in ms)")
    for row in csv.DictReader(failures_csv.open()):
        error = row["Error"][:150]
        print(f"    failed: {row['Method']} {row['Name']}: {error} × {row['Occurrences']}")
    return total, failed


def check(debate_id: int, election_id: int) -> bool:
    problems = []
    rows = dict(
        Signature.objects.values_list("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    for proposal in Proposal.objects.all():
        if proposal.signature_count != rows.get(proposal.pk, 0):
            problems.append(f"proposal {proposal.pk}: counter {proposal.signature_count}")
    doubles = (
        Signature.objects.values("proposal_id", "person_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if doubles.exists():
        problems.append(f"{doubles.count()} people signed a proposal twice")
    voters = (
        Ballot.objects.filter(election_id=election_id, superseded=False)
        .values("roll_entry")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if voters.exists():
        problems.append(f"{voters.count()} voters with two counted ballots")
    votes = Vote.objects.filter(statement__debate_id=debate_id).count()
    counted = Statement.objects.filter(debate_id=debate_id).aggregate(
        n=Sum(F("agree_count") + F("disagree_count") + F("pass_count"))
    )["n"]
    if votes != (counted or 0):
        problems.append(f"{votes} debate votes, statement counters say {counted}")
    ballots = Ballot.objects.filter(election_id=election_id).count()
    print(
        f"\n  check: {sum(rows.values())} signatures (counters == rows, one per person), "
        f"{ballots} ballots (one counted per voter), {votes} debate votes (== counters): "
        + ("OK" if not problems else "FAILED")
    )
    for problem in problems:
        print(f"    ! {problem}")
    return not problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second per user")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--quick", action="store_true", help="60 s: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 60
    offered = args.users * args.rate * args.seconds * 1.2  # room for a faster server
    residents, voters = int(offered * 0.15) + 50, int(offered * 0.05) + 10

    folder = Path(tempfile.mkdtemp(prefix="mebuku-load-"))
    redis = RedisProcess(folder, REDIS_PORT)
    ready = f"/api/v1/municipalities/{SLUG}"
    server = Server(args.port, args.workers, SERVER_ENV, ready, log=folder / "web.log")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.perf_counter()
        recreate_database(DB_NAME)
        # The production storage serves hashed names from the manifest: pages need it.
        call_command("collectstatic", interactive=False, verbosity=0)
        redis.start()
        seed_sig = signatures.seed(residents, 20, 10**6, 10**6)
        seed_cast = cast.seed(voters, municipality=seed_sig.municipality)
        debate_id, statements = seed_debate(seed_sig.municipality, "moderator@bench.example.jp")
        bodies = cast.encrypt_all(seed_cast.election, seed_cast.aliases)
        proposals = [seed_sig.hot.pk, *(p.pk for p in seed_sig.spread)]
        tokens = seed_sig.tokens
        debate_jobs = [
            # Resident k votes on statement k // len(tokens): every pair is a first vote.
            [tokens[k % len(tokens)], statements[(k // len(tokens)) % STATEMENTS], k % 3 - 1]
            for k in range(int(offered * 0.10) + 50)
        ]
        jobs: dict[str, Any] = {
            "slug": SLUG,
            "debate_id": debate_id,
            "election_id": seed_cast.election.pk,
            "browse": browse_urls(proposals, debate_id, seed_cast.election.pk),
            "sign": [[t, proposals[i % len(proposals)]] for i, t in enumerate(tokens)],
            "debate": debate_jobs,
            "cast": [list(job) for job in zip(seed_cast.tokens, bodies, strict=True)],
        }
        jobs_path = folder / "jobs.json"
        jobs_path.write_text(json.dumps(jobs))
        connections.close_all()
        print(
            f"seeded {residents} residents, {voters} voters (ballots encrypted), "
            f"{len(proposals)} proposals, a debate with {STATEMENTS} statements in "
            f"{time.perf_counter() - t0:.0f} s"
        )

        processes += [
            start_celery("worker", folder, SERVER_ENV),
            start_celery("beat", folder, SERVER_ENV),
        ]
        server.start()
        import urllib.request

        for name, path in jobs["browse"][:7]:
            with urllib.request.urlopen(f"http://{HOST}:{args.port}{path}", timeout=10) as r:
                assert r.status == 200, (name, r.status)
        print(
            f"\nmixed load: {args.users} users × {args.rate:g} requests/s for {args.seconds} s "
            f"(browse 70 %, sign 15 %, debate vote 10 %, cast 5 %), production configuration, "
            f"{args.workers} uvicorn workers, Celery worker and beat; load average "
            f"{os.getloadavg()[0]:.1f} at the start"
        )
        assert server.proc is not None
        command = [
            str(ROOT / ".venv" / "bin" / "locust"),
            *("-f", str(ROOT / "bench" / "locustfile.py"), "--headless"),
            *("--users", str(args.users), "--spawn-rate", str(args.users)),
            *("--run-time", f"{args.seconds}s", "--stop-timeout", "10"),
            *("--host", f"http://{HOST}:{args.port}", "--csv", str(folder / "locust")),
            *("--only-summary", "--loglevel", "WARNING"),
        ]
        locust_env = {
            **os.environ,
            "MEBUKU_LOAD_JOBS": str(jobs_path),
            "MEBUKU_LOAD_RATE": str(args.rate),
        }
        with (
            (folder / "locust.log").open("wb") as log,
            CpuMeter(server.proc.pid, DB_NAME, extra_bench=_children_ticks) as cpu,
        ):
            done = subprocess.run(
                command,
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=args.seconds + 120,
            )
        total, failed = report(folder / "locust_stats.csv", folder / "locust_failures.csv")
        print(cpu.line())
        print(f"  load average {os.getloadavg()[0]:.1f} at the end")
        server.stop()
        ok = check(debate_id, seed_cast.election.pk) and not failed and total > 0
        if done.returncode not in (0, 1):  # locust exits 1 when any request failed
            print(f"  locust exited with {done.returncode}:")
            print((folder / "locust.log").read_text(errors="replace")[-3000:])
            ok = False
    finally:
        server.stop()
        for process in processes:
            stop_process(process)
        connections.close_all()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
