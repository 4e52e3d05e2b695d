"""Ballot casting benchmark (issue 8): encrypted ballots over HTTP against the production stack.

    .venv/bin/python bench/cast.py [--voters 6000] [--duration 30] [--concurrency 64]
                                   [--workers 2] [--quick]

One command, loopback only, bounded in time and count. It
  1. drops and recreates the database `mebuku_bench_cast` on 127.0.0.1:5432 and migrates it;
  2. seeds a municipality, a frozen yes/no election with two trustees (keys made with the election
     library), `--voters` voters on its roll, each with an allauth headless session token;
  3. encrypts one ballot per voter beforehand with the Python library (two processes), as the
     browser would (the server receives only ciphertexts and proofs);
  4. starts the production configuration as a subprocess (`config.settings.production`,
     `uvicorn config.asgi:application --workers N`, PostgreSQL + Redis db 3);
  5. every voter casts their ballot once (POST …/elections/<id>/ballots with X-Session-Token) from
     `--concurrency` keep-alive clients for `--duration` s or until the ballots run out; prints
     accepted ballots/s, p50/p95/p99 latency, responses by status and CPU by process group;
  6. checks the database: rows == 201 responses, every returned tracker stored, one counted ballot
     per voter, no audit entry naming a ballot, and the homomorphic tally (computed by the real
     service after closing) counts exactly the accepted ballots: zero lost or double-counted.
No Celery worker runs: the receipt e-mail tasks queue in Redis db 3, flushed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    HOST,
    PG_SERVER,
    CpuMeter,
    Server,
    flush_redis,
    pct,
    production_env,
    recreate_database,
)

DB_NAME = "mebuku_bench_cast"
REDIS_URL = "redis://127.0.0.1:6379/3"
SLUG = "bench-city"
SERVER_ENV = production_env(f"{PG_SERVER}/{DB_NAME}", REDIS_URL)
os.environ.update(SERVER_ENV)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from identity.models import AuditEntry, Municipality, User  # noqa: E402
from voting.election import ElectionContext, encrypt_ballot, generate_key  # noqa: E402
from voting.election.group import g_table  # noqa: E402
from voting.election.model import key_table  # noqa: E402
from voting.models import Ballot, Election, Question, RollEntry, Status, Trustee  # noqa: E402
from voting.services import tally_compute  # noqa: E402
from voting.services.common import voter_alias  # noqa: E402
from voting.services.elections import election_json  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"
WARMUP = 100  # voters whose ballots warm up the workers (not measured)


# ---------------------------------------------------------------------------------------------
# Database and seed


@dataclass
class Seed:
    election: Election
    tokens: list[str]
    aliases: list[str]


def seed(voters: int, municipality: Municipality | None = None) -> Seed:
    """A frozen election built the way election_freeze leaves it (the office's preparation is
    not what this measures), with `voters` on the roll; in a new municipality unless one is given
    (bench/faults.py seeds signing and casting in one)."""
    if municipality is None:
        municipality = Municipality.objects.create(
            slug=SLUG, name="前橋市", name_en="Maebashi", code="102016"
        )
    now = timezone.now()
    election = Election.objects.create(
        municipality=municipality,
        title="ベンチマーク投票",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        status=Status.DRAFT,
    )
    question = Question.objects.create(
        election=election,
        position=0,
        qid="q1",
        text="賛成ですか。",
        options=[{"id": "yes", "text": "賛成"}, {"id": "no", "text": "反対"}],
        min_selections=1,
        max_selections=1,
    )
    trustees = []
    for i in range(2):
        user = User.objects.create_user(f"trustee{i}@bench.example.jp", None)
        upload = generate_key().upload_json()
        trustees.append(
            Trustee.objects.create(
                election=election,
                user=user,
                tid=f"t{i + 1}",
                public_key=upload["public_key"],
                pok=upload["pok"],
                uploaded_at=now,
            )
        )
    from voting.election import election_header

    header = election_header(election_json(election, [question]), [t.to_json() for t in trustees])
    users = [
        User(email=f"v{i}@bench.example.jp", password=make_password(None)) for i in range(voters)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    entries = [
        RollEntry(
            election=election,
            user=user,
            person_key=f"bench-person-{i}",
            alias=voter_alias(election, f"bench-person-{i}"),
            age_bracket="30-39",
            method="counter",
        )
        for i, user in enumerate(users)
    ]
    RollEntry.objects.bulk_create(entries, batch_size=5000)
    election.status = Status.FROZEN
    election.frozen_at = now
    election.header = header
    election.election_hash = header["election_hash"]
    election.save()

    store_class = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"]).SessionStore
    store = store_class()
    expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    tokens = [get_random_string(32, VALID_KEY_CHARS) for _ in users]
    Session.objects.bulk_create(
        [
            Session(
                session_key=token,
                session_data=store.encode(
                    {
                        SESSION_KEY: str(user.pk),
                        BACKEND_SESSION_KEY: BACKEND,
                        HASH_SESSION_KEY: user.get_session_auth_hash(),
                    }
                ),
                expire_date=expires,
            )
            for token, user in zip(tokens, users, strict=True)
        ],
        batch_size=5000,
    )
    return Seed(election, tokens, [e.alias for e in entries])


# ---------------------------------------------------------------------------------------------
# Ballots, encrypted beforehand as browsers would


_CTX: ElectionContext | None = None


def _encrypt(job: tuple[str, bool]) -> str:
    assert _CTX is not None
    alias, yes = job
    return json.dumps(encrypt_ballot(_CTX, alias, {"q1": ["yes" if yes else "no"]}))


def encrypt_all(election: Election, aliases: Sequence[str]) -> list[str]:
    global _CTX
    assert election.header is not None
    _CTX = ElectionContext.from_record(election.header)
    g_table()
    key_table(int(_CTX.joint_public_key))
    jobs = [(alias, i % 3 != 0) for i, alias in enumerate(aliases)]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 2) as pool:
        return pool.map(_encrypt, jobs, chunksize=100)


# ---------------------------------------------------------------------------------------------
# CPU accounting (from /proc: this machine is shared, so say who used the cores)


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    trackers: list[str] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


async def drive(
    port: int, election_id: int, jobs: Sequence[tuple[str, str]], concurrency: int, duration: float
) -> LoadResult:
    import aiohttp

    result = LoadResult()
    iterator = iter(jobs)
    url = f"http://{HOST}:{port}/api/v1/municipalities/{SLUG}/elections/{election_id}/ballots"
    connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=60)
    start = time.perf_counter()
    deadline = start + duration

    async def client(session: aiohttp.ClientSession) -> None:
        for token, body in iterator:
            if time.perf_counter() >= deadline:
                return
            t0 = time.perf_counter()
            try:
                async with session.post(
                    url,
                    data=body,
                    headers={"X-Session-Token": token, "Content-Type": "application/json"},
                ) as response:
                    status = str(response.status)
                    raw = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                status, raw = type(error).__name__, b""
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.statuses[status] += 1
            if status == "201":
                result.trackers.append(json.loads(raw)["tracker"])
            else:
                result.samples.setdefault(status, raw[:300].decode(errors="replace"))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


def report(result: LoadResult, cpu: CpuMeter) -> float:
    n_ok = result.statuses.get("201", 0)
    rate = n_ok / result.elapsed if result.elapsed else 0.0
    lat = result.latencies_ms
    errors = {k: v for k, v in sorted(result.statuses.items()) if k != "201"}
    print(
        f"  {n_ok} ballots accepted in {result.elapsed:.1f} s = {rate:.0f} ballots/s; "
        f"latency p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, p99 {pct(lat, 99):.1f} ms, "
        f"max {max(lat, default=0):.1f} ms"
    )
    print(f"  responses: 201 × {n_ok}; errors: {errors or 'none'}")
    for status, body in result.samples.items():
        print(f"    e.g. {status}: {body}")
    print(cpu.line())
    if n_ok:
        server_ms = cpu.used["server"] / n_ok * 1000
        pg_ms = cpu.used["postgres"] / n_ok * 1000
        print(f"  CPU per accepted ballot: server {server_ms:.1f} ms, postgres {pg_ms:.1f} ms")
    return rate


def check(seed_: Seed, result: LoadResult, measured_from: int) -> bool:
    """Zero lost or double-counted ballots."""
    election = seed_.election
    ballots = Ballot.objects.filter(election=election)
    rows = ballots.count()
    n_ok = result.statuses.get("201", 0) + measured_from
    stored = set(ballots.values_list("tracker", flat=True))
    missing = [t for t in result.trackers if t not in stored]
    per_voter = (
        ballots.filter(superseded=False)
        .values("roll_entry")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    # The board is the record of ballots: no audit entry may name a voter's ballot.
    audits = AuditEntry.objects.filter(action__startswith="ballot.").count()
    unknown = sum(v for k, v in result.statuses.items() if not k.isdigit())
    problems = []
    if rows != n_ok and not unknown:
        problems.append(f"{rows} ballots stored but {n_ok} × 201")
    if missing:
        problems.append(f"{len(missing)} accepted trackers not stored")
    if per_voter.exists():
        problems.append(f"{per_voter.count()} voters with more than one counted ballot")
    if audits:
        problems.append(f"{audits} audit entries name a voter's ballot (the board is the record)")
    # Close and tally with the real services: the tally must count every accepted ballot once.
    Election.objects.filter(pk=election.pk).update(status=Status.CLOSED)
    tally = tally_compute(actor=None, municipality=election.municipality, election_id=election.pk)
    if tally.ballots_counted != n_ok:
        problems.append(f"tally counts {tally.ballots_counted} ballots, {n_ok} were accepted")
    print(
        f"  check: {rows} rows, {n_ok} × 201 (incl. {measured_from} warm-up), every tracker "
        f"stored, one counted ballot per voter, {audits} audit entries, tally counts "
        f"{tally.ballots_counted}: " + ("OK" if not problems else "FAILED")
    )
    for problem in problems:
        print(f"    ! {problem}")
    return not problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=6000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--quick", action="store_true", help="600 voters, 5 s: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.voters, args.duration = 600, 5.0
    voters = args.voters + WARMUP

    t0 = time.perf_counter()
    recreate_database(DB_NAME)
    flush_redis(REDIS_URL)
    seed_ = seed(voters)
    print(f"seeded {voters} voters in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    bodies = encrypt_all(seed_.election, seed_.aliases)
    print(f"encrypted {len(bodies)} ballots (one per voter) in {time.perf_counter() - t0:.1f} s")
    jobs = list(zip(seed_.tokens, bodies, strict=True))
    connections.close_all()

    server = Server(args.port, args.workers, SERVER_ENV, f"/api/v1/municipalities/{SLUG}")
    try:
        server.start()
        warm = asyncio.run(drive(args.port, seed_.election.pk, jobs[:WARMUP], 8, 60))
        warmed = warm.statuses.get("201", 0)
        if warmed != WARMUP:
            print(f"warm-up failed: {dict(warm.statuses)} {warm.samples}")
            return 1
        assert server.proc is not None
        print(
            f"\ncasting: {args.voters} voters, {args.concurrency} clients, {args.workers} uvicorn "
            f"workers, up to {args.duration:.0f} s (one yes/no ballot each, pre-encrypted), "
            "through Django (async django-ninja endpoint, micro-batched services)"
        )
        with CpuMeter(server.proc.pid, DB_NAME) as cpu:
            result = asyncio.run(
                drive(args.port, seed_.election.pk, jobs[WARMUP:], args.concurrency, args.duration)
            )
        report(result, cpu)
    finally:
        server.stop()
    ok = check(seed_, result, warmed)
    flush_redis(REDIS_URL)  # the receipt e-mails queued for a worker that never ran
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
