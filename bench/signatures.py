"""Online signature benchmark (issue 5): signing over HTTP against the production stack.

    .venv/bin/python bench/signatures.py [--duration 30] [--concurrency 32] [--residents 30000]
                                         [--proposals 50] [--workers 2] [--quick]

One command, loopback only, bounded in time and count. It
  1. drops and recreates the database `mebuku_bench_sig` on 127.0.0.1:5432 and migrates it;
  2. seeds a municipality, a proposal type, one hot proposal, `--proposals` others, and
     `--residents` residents verified at the counter (bulk-created with the same keyed hashes the
     verification services use, all adults, so every signer passes the real eligibility check), each
     with an allauth headless session token (a session written through Django's session engine);
  3. starts the production configuration as a subprocess (`config.settings.production`,
     `uvicorn config.asgi:application --workers N`, PostgreSQL + Redis db 13);
  4. scenario A: every resident signs the hot proposal once; scenario B: every resident signs one of
     the other proposals once; each with `--concurrency` keep-alive clients for `--duration` s or
     until the residents run out. Prints signatures/s, p50/p95/p99 latency, responses by status, CPU
     by process group, then checks the database: rows == 201 responses == counter, one row per
     person, one audit entry per signature, the threshold crossing recorded exactly once, and
     how many signatures each commit carried (distinct inserting transactions, `xmin`);
  5. the ceiling: the SQL statements of one signature request made alone (captured with an
     execute wrapper around a request through Django's test client) replayed with psycopg from
     the same number of connections, with per-signer values substituted; prints our rate as a
     fraction of it. The server's group commit shares statements between the signers of a batch,
     so it can exceed this one-at-a-time ceiling.

`--only-hot` runs scenario A alone (about a minute with `--duration 20 --residents 16000`).
`--only-floor` runs the floor alone (`--duration 20 --residents 100`: well under a minute).
`MEBUKU_BENCH_DB` and `MEBUKU_BENCH_REDIS_URL` name another database and Redis db than the defaults,
for a run beside another session's on a shared machine (use another `--port` too).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

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
    ticks,
)

DB_NAME = os.environ.get("MEBUKU_BENCH_DB", "mebuku_bench_sig")
REDIS_URL = os.environ.get("MEBUKU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SLUG = "bench-city"
SERVER_ENV = production_env(f"{PG_SERVER}/{DB_NAME}", REDIS_URL)
os.environ.update(SERVER_ENV)

import django  # noqa: E402
import psycopg  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from identity.keys import PersonFacts, identity_hash, person_hash  # noqa: E402
from identity.models import (  # noqa: E402
    AuditEntry,
    Municipality,
    User,
    Verification,
    VerificationMethod,
)
from proposals.models import (  # noqa: E402
    Proposal,
    ProposalType,
    Signature,
    Status,
    TimelineEvent,
)

BACKEND = "django.contrib.auth.backends.ModelBackend"


# ---------------------------------------------------------------------------------------------
# Database and seed


@dataclass
class Seed:
    municipality: Municipality
    hot: Proposal
    warmup: Proposal
    capture: Proposal
    spread: list[Proposal]
    users: list[int]
    tokens: list[str]
    verification_ids: list[int]
    person_keys: list[str]  # what eligibility will derive; used only by the ceiling replay


def _proposal(
    municipality: Municipality, kind: ProposalType, author: User, title: str, threshold: int
) -> Proposal:
    now = timezone.now()
    proposal = Proposal(
        municipality=municipality,
        type=kind,
        author=author,
        title=title,
        summary="ベンチマーク用の提案",
        body="# 提案\n署名のベンチマーク",
        status=Status.COLLECTING,
        threshold=threshold,
        collection_opens_at=now,
        collection_closes_at=now + timedelta(days=60),
    )
    proposal.refresh_search_text()
    proposal.save(force_insert=True)
    TimelineEvent.objects.create(proposal=proposal, status=Status.COLLECTING, at=now)
    return proposal


def seed(residents: int, others: int, hot_threshold: int, spread_threshold: int) -> Seed:
    from identity.keys import keyed_hash

    rng = random.Random(5)
    municipality = Municipality.objects.create(
        slug=SLUG, name="前橋市", name_en="Maebashi", code="102016"
    )
    clerk = User.objects.create_user("clerk@bench.example.jp", None)
    author = User.objects.create_user("author@bench.example.jp", None)
    kind = ProposalType.objects.create(
        municipality=municipality,
        name="市民政策提案",
        threshold_fixed=hot_threshold,
        collection_days=60,
        min_age=18,
    )
    hot = _proposal(municipality, kind, author, "駅前に屋根付きの広場を", hot_threshold)
    spread = [
        _proposal(municipality, kind, author, f"提案 {i}", spread_threshold) for i in range(others)
    ]
    warmup = _proposal(municipality, kind, author, "ウォームアップ", 10**6)
    capture = _proposal(municipality, kind, author, "計測用", 10**6)

    now = timezone.now()
    users = [
        User(email=f"r{i}@bench.example.jp", password=make_password(None)) for i in range(residents)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    today = timezone.localdate()
    verifications = []
    for i, user in enumerate(users):
        birth = date(today.year - rng.randint(19, 90), rng.randint(1, 12), rng.randint(1, 28))
        person = PersonFacts(f"住民 {i}", birth, f"大手町{i // 100 + 1}-{i % 100 + 1}-1")
        hashed = person_hash(person, municipality.name)
        verifications.append(
            Verification(
                user=user,
                municipality=municipality,
                method=VerificationMethod.COUNTER,
                identity_hash=identity_hash(VerificationMethod.COUNTER, hashed),
                person_hash=hashed,
                legal_name=person.name,
                birth_date=birth,
                address=person.address,
                document_type="my_number_card",
                verified_by=clerk,
                verified_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=municipality.verification_valid_days),
            )
        )
    Verification.objects.bulk_create(verifications, batch_size=5000)

    store_class = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"]).SessionStore
    assert settings.SESSION_ENGINE.endswith((".db", ".cached_db")), settings.SESSION_ENGINE
    store = store_class()
    expires = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    tokens = [get_random_string(32, VALID_KEY_CHARS) for _ in users]
    sessions = [
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
    ]
    Session.objects.bulk_create(sessions, batch_size=5000)
    return Seed(
        municipality=municipality,
        hot=hot,
        warmup=warmup,
        capture=capture,
        spread=spread,
        users=[u.pk for u in users],
        tokens=tokens,
        verification_ids=[v.pk for v in verifications],
        person_keys=[keyed_hash("act-person", v.person_hash) for v in verifications],
    )


# ---------------------------------------------------------------------------------------------
# CPU accounting (from /proc: this machine is shared, so say who used the cores)


_CHILD_TICKS: list[int] = []  # CPU of the ceiling's worker processes, reported when they end
_GONE_PG_TICKS: list[int] = []  # CPU of their PostgreSQL backends, which exit before we look


def _child_ticks() -> int:
    return sum(_CHILD_TICKS)


def _gone_pg_ticks() -> int:
    return sum(_GONE_PG_TICKS)


def _meter(server_pgid: int | None) -> CpuMeter:
    return CpuMeter(server_pgid, DB_NAME, extra_bench=_child_ticks, extra_postgres=_gone_pg_ticks)


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    crossed: Counter[int] = field(default_factory=Counter)
    ok: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0


async def drive(
    port: int, jobs: Sequence[tuple[str, int]], concurrency: int, duration: float
) -> LoadResult:
    import aiohttp

    result = LoadResult()
    iterator = iter(jobs)
    base = f"http://{HOST}:{port}/api/v1/municipalities/{SLUG}/proposals"
    connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=30)
    start = time.perf_counter()
    deadline = start + duration

    async def client(session: aiohttp.ClientSession) -> None:
        for token, proposal_id in iterator:
            if time.perf_counter() >= deadline:
                return
            t0 = time.perf_counter()
            try:
                async with session.post(
                    f"{base}/{proposal_id}/signature", headers={"X-Session-Token": token}
                ) as response:
                    status = str(response.status)
                    raw = await response.read()
                    body = json.loads(raw) if status == "201" else None
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                status, body = type(error).__name__, None
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.statuses[status] += 1
            if status == "201":
                result.ok[proposal_id] += 1
                if body and body.get("crossed_threshold"):
                    result.crossed[proposal_id] += 1

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


async def drive_floor(
    port: int, concurrency: int, duration: float
) -> tuple[int, float, list[float]]:
    """The framework's floor: the same server answering `GET /api/v1/municipalities/<slug>` (no
    session, no SQL: the municipality comes from the per-process cache) as fast as it can."""
    import aiohttp

    url = f"http://{HOST}:{port}/api/v1/municipalities/{SLUG}"
    connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=None)
    latencies: list[float] = []
    done = 0
    start = time.perf_counter()
    deadline = start + duration

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                if response.status == 200:
                    done += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return done, time.perf_counter() - start, latencies


def report_load(name: str, result: LoadResult, cpu: CpuMeter) -> float:
    n_ok = result.statuses.get("201", 0)
    rate = n_ok / result.elapsed if result.elapsed else 0.0
    lat = result.latencies_ms
    errors = {k: v for k, v in sorted(result.statuses.items()) if k != "201"}
    print(f"\n{name}")
    print(
        f"  {n_ok} signatures in {result.elapsed:.1f} s = {rate:.0f} signatures/s; "
        f"latency p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, p99 {pct(lat, 99):.1f} ms, "
        f"max {max(lat, default=0):.1f} ms"
    )
    print(f"  responses: 201 × {n_ok}; errors: {errors or 'none'}")
    print(cpu.line())
    if n_ok:
        server_ms = cpu.used["server"] / n_ok * 1000
        pg_ms = cpu.used["postgres"] / n_ok * 1000
        print(
            f"  CPU per signature: server {server_ms:.1f} ms, postgres {pg_ms:.1f} ms "
            f"(so 500 signatures/s would need {(server_ms + pg_ms) / 2:.1f} of these cores)"
        )
    return rate


def check_invariants(
    result: LoadResult,
    proposals: Sequence[Proposal],
    batch_size_seen: dict[str, int] | None = None,
    scenario: str = "",
) -> bool:
    """Zero lost or duplicated signatures; the crossing recorded exactly once per proposal."""
    ids = [p.pk for p in proposals]
    rows = dict(
        Signature.objects.filter(proposal_id__in=ids)
        .values_list("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    persons = dict(
        Signature.objects.filter(proposal_id__in=ids)
        .values_list("proposal_id")
        .annotate(n=Count("person_key", distinct=True))
        .values_list("proposal_id", "n")
    )
    crossings = dict(
        TimelineEvent.objects.filter(proposal_id__in=ids, status=Status.THRESHOLD_REACHED)
        .values_list("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    audits = AuditEntry.objects.filter(
        action="signature.add",
        target_type="proposals.signature",
        target_id__in=[
            str(pk)
            for pk in Signature.objects.filter(proposal_id__in=ids).values_list("pk", flat=True)
        ],
    ).count()
    problems: list[str] = []
    unknown = sum(v for k, v in result.statuses.items() if not k.isdigit())
    total_rows = 0
    for proposal in Proposal.objects.filter(pk__in=ids):
        n_rows, n_ok = rows.get(proposal.pk, 0), result.ok.get(proposal.pk, 0)
        total_rows += n_rows
        if n_rows != n_ok and not unknown:
            problems.append(f"proposal {proposal.pk}: {n_rows} rows but {n_ok} × 201")
        if proposal.signature_count != n_rows:
            problems.append(
                f"proposal {proposal.pk}: counter {proposal.signature_count} but {n_rows} rows"
            )
        if persons.get(proposal.pk, 0) != n_rows:
            problems.append(
                f"proposal {proposal.pk}: {n_rows} rows, {persons.get(proposal.pk)} ppl"
            )
        assert proposal.threshold is not None
        expected = 1 if n_rows >= proposal.threshold else 0
        reached = proposal.threshold_reached_at is not None
        if (
            crossings.get(proposal.pk, 0) != expected
            or result.crossed.get(proposal.pk, 0) != expected
            or reached != bool(expected)
        ):
            problems.append(
                f"proposal {proposal.pk}: {crossings.get(proposal.pk, 0)} crossings recorded, "
                f"{result.crossed.get(proposal.pk, 0)} reported, expected {expected}"
            )
    if audits != total_rows:
        problems.append(f"{audits} audit entries for {total_rows} signatures")
    crossed = sum(1 for p in ids if crossings.get(p))
    ok = sum(result.ok.values())
    print(
        f"  check: {total_rows} rows, {ok} × 201, counters == rows, one row per person, "
        f"{audits} audit entries, crossings {crossed} (once each) "
        + ("OK" if not problems else "FAILED")
    )
    with connection.cursor() as cursor:
        # xmin is the inserting transaction: how many signatures each commit carried.
        cursor.execute(
            "SELECT count(DISTINCT xmin::text) FROM proposals_signature "
            "WHERE proposal_id = ANY(%s)",
            [ids],
        )
        (commits,) = cursor.fetchone()
    if commits:
        print(
            f"  group commit: {commits} transactions inserted them, "
            f"{total_rows / commits:.1f} signatures each on average"
        )
        if batch_size_seen is not None:
            batch_size_seen[scenario] = max(1, round(total_rows / commits))
    for problem in problems[:10]:
        print(f"    ! {problem}")
    return not problems


# ---------------------------------------------------------------------------------------------
# The ceiling: the statements of one signature request, straight through psycopg


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...]
    in_transaction: bool


def capture_statements(seed: Seed, who: int) -> list[Statement]:
    """Every SQL statement one real signature request issues (session, user, municipality, …)."""
    captured: list[Statement] = []

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        captured.append(Statement(sql, tuple(params or ()), connection.in_atomic_block))
        return execute(sql, params, many, context)

    client = Client(HTTP_HOST=HOST)
    url = f"/api/v1/municipalities/{SLUG}/proposals/{seed.capture.pk}/signature"
    with connection.execute_wrapper(wrapper):
        response = client.post(url, HTTP_X_SESSION_TOKEN=seed.tokens[who])
    assert response.status_code == 201, response.content
    return captured


def _template(
    statements: list[Statement], seed: Seed, who: int
) -> list[tuple[str, list[Any], bool]]:
    """Mark the per-signer values so each replayed signature is a different person."""
    signer = {
        seed.users[who]: "user",
        seed.verification_ids[who]: "verification",
        seed.tokens[who]: "token",
        seed.person_keys[who]: "person_key",
        seed.capture.pk: "proposal",
    }
    out = []
    for st in statements:
        params: list[Any] = []
        for p in st.params:
            if isinstance(p, datetime):
                params.append(("now",))
            elif isinstance(p, (int, str)) and not isinstance(p, bool) and p in signer:
                params.append((signer[p],))
            else:
                params.append(p)
        out.append((st.sql, params, st.in_transaction))
    return out


def _ceiling_worker(
    template: list[tuple[str, list[Any], bool]],
    seed_lists: tuple[list[int], list[int], list[str]],
    proposals: list[int],
    start_index: int,
    stride: int,
    connections_n: int,
    duration: float,
    queue: Any,
) -> None:
    users, verifications, tokens = seed_lists

    pg_ticks = [0]

    async def run() -> list[float]:
        latencies: list[float] = []
        counter = iter(range(start_index, 10**9, stride))
        deadline = time.perf_counter() + duration

        async def one(conn: psycopg.AsyncConnection[Any]) -> None:
            cur = psycopg.AsyncClientCursor(conn)
            for i in counter:
                if time.perf_counter() >= deadline:
                    return
                r = i % len(users)
                values = {
                    "user": users[r],
                    "verification": verifications[r],
                    "token": tokens[r],
                    "person_key": hashlib.sha256(f"ceiling-{i}".encode()).hexdigest(),
                    "proposal": proposals[i % len(proposals)],
                }
                now = datetime.now(UTC)
                t0 = time.perf_counter()
                transaction: Any = None
                for sql, params, in_tx in template:
                    bound = [
                        (now if p[0] == "now" else values[p[0]])
                        if isinstance(p, tuple) and len(p) == 1 and isinstance(p[0], str)
                        else p
                        for p in params
                    ]
                    if in_tx and transaction is None:
                        transaction = conn.transaction()
                        await transaction.__aenter__()
                    elif not in_tx and transaction is not None:
                        await transaction.__aexit__(None, None, None)
                        transaction = None
                    await cur.execute(sql, bound)
                    if cur.description is not None:
                        await cur.fetchall()
                if transaction is not None:
                    await transaction.__aexit__(None, None, None)
                latencies.append((time.perf_counter() - t0) * 1000)

        conns = [
            await psycopg.AsyncConnection.connect(f"{PG_SERVER}/{DB_NAME}", autocommit=True)
            for _ in range(connections_n)
        ]
        backends = [c.info.backend_pid for c in conns]
        before = sum(ticks(pid) for pid in backends)
        try:
            await asyncio.gather(*(one(c) for c in conns))
            pg_ticks[0] = sum(ticks(pid) for pid in backends) - before
        finally:
            for c in conns:
                await c.close()
        return latencies

    import resource

    latencies = asyncio.run(run())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put((latencies, usage.ru_utime + usage.ru_stime, pg_ticks[0]))


def ceiling(
    seed: Seed,
    statements: list[Statement],
    who: int,
    proposals: list[int],
    n_conn: int,
    duration: float,
) -> tuple[float, list[float]]:
    template = _template(statements, seed, who)
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    processes = min(2, n_conn)
    per = [n_conn // processes + (1 if k < n_conn % processes else 0) for k in range(processes)]
    lists = (seed.users, seed.verification_ids, seed.tokens)
    procs = [
        ctx.Process(
            target=_ceiling_worker,
            args=(template, lists, proposals, k, processes, per[k], duration, queue),
            daemon=True,
        )
        for k in range(processes)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    for _ in procs:
        lat, cpu_seconds, backend_ticks = queue.get(timeout=duration + 60)
        latencies.extend(lat)
        _CHILD_TICKS.append(int(cpu_seconds * os.sysconf("SC_CLK_TCK")))
        _GONE_PG_TICKS.append(backend_ticks)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=10)
    return len(latencies) / elapsed, latencies


# ---------------------------------------------------------------------------------------------


def measure_floor(args: argparse.Namespace, server: Server) -> None:
    assert server.proc is not None
    with CpuMeter(
        server.proc.pid, DB_NAME, extra_bench=_child_ticks, extra_postgres=_gone_pg_ticks
    ) as cpu:
        n, elapsed, lat = asyncio.run(drive_floor(args.port, args.concurrency, args.duration))
    print(
        f"\nfloor: GET of a cached public endpoint (no SQL), {args.concurrency} clients: "
        f"{n / elapsed:.0f} requests/s, p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms; "
        f"server CPU per request {cpu.used['server'] / max(n, 1) * 1000:.2f} ms, "
        f"client {cpu.used['bench'] / max(n, 1) * 1000:.2f} ms"
    )
    print(cpu.line())


def floor_only(args: argparse.Namespace) -> int:
    """`--only-floor`: the server started and warmed up on the floor's endpoint, then the floor."""
    import aiohttp

    connections.close_all()
    server = Server(args.port, args.workers, SERVER_ENV, f"/api/v1/municipalities/{SLUG}")
    try:
        server.start()

        async def warm() -> None:
            url = f"http://{HOST}:{args.port}/api/v1/municipalities/{SLUG}"
            async with aiohttp.ClientSession() as session:
                for _ in range(200):
                    async with session.get(url) as response:
                        await response.read()

        asyncio.run(warm())
        measure_floor(args, server)
    finally:
        server.stop()
        connections.close_all()
    flush_redis(REDIS_URL)
    return 0


def service_share(data: Seed, batch: int, count: int) -> None:
    """Where a signature's server CPU goes: the batch's own work, measured in this process on
    the same database (a fresh proposal, fresh signers' tokens, the batch size the server's group
    commit reached), split into the token check and the group commit. The rest of the server's
    CPU per signature is the request path (HTTP, Django, ninja, the batcher), of which the floor
    is the part every request pays."""
    from identity.session_tokens import SessionToken, resolve_actors
    from proposals.services import SignRequest, signature_add_many

    author = User.objects.get(pk=data.users[0])
    fresh = _proposal(data.municipality, data.hot.type, author, "内訳", threshold=10**6)
    tokens = data.tokens[:count]
    resolve_cpu = commit_cpu = 0.0
    for start in range(0, len(tokens), batch):
        chunk = [SessionToken(t) for t in tokens[start : start + batch]]
        t0 = time.process_time()
        users = resolve_actors(chunk)
        t1 = time.process_time()
        outcomes = signature_add_many(
            requests=[SignRequest(u, fresh.pk) for u in users if u is not None],
            municipality=data.municipality,
        )
        commit_cpu += time.process_time() - t1
        resolve_cpu += t1 - t0
        assert len(outcomes) == len(chunk)
    n = len(tokens)
    print(
        f"\nservice share (in-process, batches of {batch}, {n} signatures): token check "
        f"{resolve_cpu / n * 1000:.2f} ms + group commit {commit_cpu / n * 1000:.2f} ms "
        f"= {(resolve_cpu + commit_cpu) / n * 1000:.2f} ms of CPU per signature"
    )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def jobs_for(tokens: list[str], proposals: list[int], rng: random.Random) -> list[tuple[str, int]]:
    order = list(range(len(tokens)))
    rng.shuffle(order)
    return [(tokens[i], proposals[k % len(proposals)]) for k, i in enumerate(order)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP clients / DB connections")
    parser.add_argument("--residents", type=int, default=30000, help="signers (each signs once)")
    parser.add_argument("--proposals", type=int, default=50, help="proposals in scenario B")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run (small and short)")
    parser.add_argument(
        "--only-hot", action="store_true", help="scenario A alone (no B, floor or ceiling)"
    )
    parser.add_argument(
        "--only-floor", action="store_true", help="the floor alone (no scenarios, no ceiling)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.residents, args.proposals = 4.0, 4000, 10
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background

    print(
        f"machine: {os.cpu_count()} cores; server: uvicorn config.asgi:application "
        f"--workers {args.workers} (uvloop, httptools), config.settings.production; "
        f"PostgreSQL {DB_NAME}, Redis {REDIS_URL}"
    )
    print(
        f"load: {args.concurrency} keep-alive clients (aiohttp), {args.duration:.0f} s per "
        f"scenario, {args.residents} residents"
    )
    t0 = time.perf_counter()
    recreate_database(DB_NAME)
    flush_redis(REDIS_URL)
    hot_threshold = 50 if args.quick else max(1, min(1000, args.residents // 20))
    data = seed(args.residents, args.proposals, hot_threshold, spread_threshold=20)
    print(f"setup: database, migrations and seed in {time.perf_counter() - t0:.1f} s")
    if args.only_floor:
        return floor_only(args)
    capture_who = len(data.users) - 1
    statements = capture_statements(data, capture_who)
    in_tx = sum(s.in_transaction for s in statements)
    print(
        f"one signature request issues {len(statements)} SQL statements "
        f"({len(statements) - in_tx} before the transaction, {in_tx} inside it + BEGIN/COMMIT)"
    )
    for st in statements:
        print(f"    {'tx ' if st.in_transaction else '   '}{' '.join(st.sql.split())[:110]}")
    connections.close_all()

    server = Server(args.port, args.workers, SERVER_ENV, f"/api/v1/municipalities/{SLUG}")
    rng = random.Random(7)
    ok = True
    rates: dict[str, float] = {}
    batch_size_seen: dict[str, int] = {}
    try:
        server.start()
        warm = min(400, len(data.tokens) // 10)
        asyncio.run(drive(args.port, [(t, data.warmup.pk) for t in data.tokens[:warm]], 8, 10))
        assert server.proc is not None
        scenarios = [
            ("A: one hot proposal", [data.hot.pk], [data.hot]),
            ("B: spread over many proposals", [p.pk for p in data.spread], data.spread),
        ][: 1 if args.only_hot else 2]
        for name, ids, proposals in scenarios:
            jobs = jobs_for(data.tokens, ids, rng)
            with CpuMeter(
                server.proc.pid, DB_NAME, extra_bench=_child_ticks, extra_postgres=_gone_pg_ticks
            ) as cpu:
                result = asyncio.run(drive(args.port, jobs, args.concurrency, args.duration))
            rates[name[0]] = report_load(name, result, cpu)
            connections.close_all()
            ok = check_invariants(result, proposals, batch_size_seen, name[0]) and ok
        if args.only_hot:
            return 0 if ok else 1
        measure_floor(args, server)
        service_share(data, batch=batch_size_seen.get("A", 8), count=min(4000, len(data.tokens)))
    finally:
        server.stop()
        connections.close_all()

    for name, ids in (("A", [data.hot.pk]), ("B", [p.pk for p in data.spread])):
        with CpuMeter(
            None, DB_NAME, extra_bench=_child_ticks, extra_postgres=_gone_pg_ticks
        ) as cpu:
            rate, lat = ceiling(data, statements, capture_who, ids, args.concurrency, args.duration)
        print(
            f"\nceiling {name}: the same {len(statements)} statements via psycopg, "
            f"{args.concurrency} connections: {rate:.0f} signatures/s, p50 {pct(lat, 50):.1f} ms, "
            f"p99 {pct(lat, 99):.1f} ms; HTTP rate = {rates.get(name, 0) / rate:.0%} of it"
            + (
                " (group commit shares statements between signers)"
                if rates.get(name, 0) > rate
                else ""
            )
        )
        print(cpu.line())
    flush_redis(REDIS_URL)
    print(
        f"\ninvariants: {'all held' if ok else 'VIOLATED'}; total {time.perf_counter() - t0:.0f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
