"""Fault test (issue 14): signing and casting at load while Redis stops and PostgreSQL restarts.

    .venv/bin/python bench/faults.py [--seconds 60] [--sign-rate 150] [--cast-rate 30]
                                     [--redis-outage 7] [--workers 2] [--quick]

Everything runs on this machine's loopback and on services of its own, so nothing else here is
touched: a PostgreSQL 15 cluster made with initdb in a temporary folder (port 55432, as the
`postgres` user when run as root) and a redis-server (port 56379, no persistence, as production's
Redis). It
  1. creates the cluster and Redis, migrates, and seeds one municipality with the signing bench's
     residents and proposals (`bench/signatures.py`) and the casting bench's frozen election and
     voters (`bench/cast.py`, one ballot per voter encrypted beforehand);
  2. starts the production configuration: `uvicorn config.asgi:application` (bench/harness.py),
     a Celery worker (`config.celery.WORKER_ARGS`, as docs/operations.md) and Celery beat;
  3. signs and casts at a steady rate (each resident signs once, each voter casts once) for
     `--seconds`, and meanwhile stops Redis for `--redis-outage` seconds (at 20 % of the run) and
     restarts PostgreSQL with `pg_ctl restart -m fast` (at 60 %);
  4. waits for the worker to catch up, then checks against the database: no committed act was
     answered 5xx or left without an answer, every 2xx act is stored once, no person has two,
     counters == rows, one audit entry per signature, the tally counts every stored ballot, the
     audit chains verify with nothing left unsealed, the outbox is empty, and the worker and beat
     still run (a beat heartbeat newer than the last fault reached the worker).
It prints its figures and exits non-zero when a check fails. Only counts are printed: the check
knows which voter cast (the roll entry of each stored ballot, as the database does), and keeps
that in memory only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import SERVER_EXTRA, production_env  # noqa: E402

PG_BIN = Path(os.environ.get("MEBUKU_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT = int(os.environ.get("MEBUKU_FAULTS_PG_PORT", "55432"))
REDIS_PORT = int(os.environ.get("MEBUKU_FAULTS_REDIS_PORT", "56379"))
DB_NAME = "mebuku_faults"
SLUG = "bench-city"
SERVER_ENV = production_env(
    f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB_NAME}",
    f"redis://127.0.0.1:{REDIS_PORT}/0",
    **SERVER_EXTRA,
)
os.environ.update(SERVER_ENV)

import django  # noqa: E402

# This bench's settings first: bench.signatures and bench.cast point the environment at their own
# database when imported, after Django has read ours; the environment is put back right after.
django.setup()

from bench import cast, signatures  # noqa: E402
from bench.harness import (  # noqa: E402
    HOST,
    RedisProcess,
    Server,
    machine_ticks,
    pct,
    start_celery,
    stop_process,
)

os.environ.update(SERVER_ENV)

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count  # noqa: E402

from identity.audit import audit_verify  # noqa: E402
from identity.health import HEARTBEAT_KEY  # noqa: E402
from identity.models import (  # noqa: E402
    AuditEntry,
    OutboxMessage,
)
from identity.outbox import outbox_backlog  # noqa: E402
from proposals.models import Proposal, Signature  # noqa: E402
from voting.models import Ballot, Election, RollEntry, Status  # noqa: E402
from voting.services import tally_compute  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Services of this bench alone


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Cluster:
    """A PostgreSQL cluster in a folder of its own, on its own port."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.data, self.log = folder / "data", folder / "postgres.log"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)])
            + list(args),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    *(str(PG_BIN / "initdb"), "-D", str(self.data)),
                    *("-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"),
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        self._pg_ctl("-w", "-o", options, "start")
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DB_NAME],
            check=True,
        )

    def restart(self) -> None:
        # pg_ctl restart keeps the options the server was started with (postmaster.opts).
        self._pg_ctl("-w", "-m", "fast", "restart")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("-w", "-m", "immediate", "stop")


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Outcome:
    person: int  # index into the seed's residents or voters
    status: str  # HTTP status, or the client error's name when no answer came
    at: float  # when the answer (or the error) came, in seconds since the start of the load
    ms: float


@dataclass
class Load:
    sign: list[Outcome] = field(default_factory=list)
    cast: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0


async def drive(
    port: int,
    sign_jobs: Sequence[tuple[str, int]],
    cast_jobs: Sequence[tuple[str, str]],
    election_id: int,
    seconds: float,
    rates: tuple[float, float],
    clients: tuple[int, int],
) -> Load:
    """Each job is sent at its turn in a steady schedule (`rates` per second), by at most
    `clients` connections of each kind; a job whose turn comes while every client waits is sent
    as soon as one is free."""
    import aiohttp

    load = Load()
    base = f"http://{HOST}:{port}/api/v1/municipalities/{SLUG}"
    start = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=30)

    async def run(kind: str, jobs: Sequence[tuple[str, object]], rate: float, n: int) -> None:
        iterator = iter(enumerate(jobs))
        out = load.sign if kind == "sign" else load.cast
        connector = aiohttp.TCPConnector(limit=n, ttl_dns_cache=None)

        async def client(session: aiohttp.ClientSession) -> None:
            for i, (token, payload) in iterator:
                due = start + i / rate
                # Bounded in time: a server slower than the offered rate gets fewer requests.
                if due - start >= seconds or time.perf_counter() - start >= seconds:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                t0 = time.perf_counter()
                headers = {"X-Session-Token": token}
                if kind == "sign":
                    url, data = f"{base}/proposals/{payload}/signature", None
                else:
                    url, data = f"{base}/elections/{election_id}/ballots", payload
                    headers["Content-Type"] = "application/json"
                try:
                    async with session.post(url, data=data, headers=headers) as response:
                        await response.read()
                        status = str(response.status)
                except (aiohttp.ClientError, TimeoutError) as error:
                    status = type(error).__name__
                t1 = time.perf_counter()
                out.append(Outcome(i, status, t1 - start, (t1 - t0) * 1000))

        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.gather(*(client(session) for _ in range(n)))

    await asyncio.gather(
        run("sign", sign_jobs, rates[0], clients[0]),
        run("cast", cast_jobs, rates[1], clients[1]),
    )
    load.elapsed = time.perf_counter() - start
    return load


class Faults(threading.Thread):
    """Stops Redis at 20 % of the run for `outage` seconds, restarts PostgreSQL at 60 %."""

    def __init__(
        self, redis: RedisProcess, cluster: Cluster, seconds: float, outage: float
    ) -> None:
        super().__init__(daemon=True)
        self.redis, self.cluster, self.seconds, self.outage = redis, cluster, seconds, outage
        self.events: list[tuple[float, float, str]] = []  # (from, to, what), seconds into the load
        self.error: BaseException | None = None
        self.start_time = 0.0

    def run(self) -> None:
        try:
            self.start_time = time.perf_counter()
            self._at(0.2 * self.seconds)
            t0 = self._now()
            self.redis.stop()
            time.sleep(self.outage)
            self.redis.start()
            self.events.append((t0, self._now(), "Redis stopped"))
            self._at(0.6 * self.seconds)
            t0 = self._now()
            self.cluster.restart()
            self.events.append((t0, self._now(), "PostgreSQL restart (pg_ctl restart -m fast)"))
        except BaseException as error:  # reported by the main thread
            self.error = error

    def _now(self) -> float:
        return time.perf_counter() - self.start_time

    def _at(self, offset: float) -> None:
        time.sleep(max(0.0, offset - self._now()))


# ---------------------------------------------------------------------------------------------
# Checks


def _answered(status: str) -> bool:
    return status.isdigit()


def classify(
    name: str, outcomes: Sequence[Outcome], stored: Counter[int]
) -> tuple[list[str], dict[str, int]]:
    """`stored`: acts in the database per person (index). Returns problems and figures."""
    figures: Counter[str] = Counter()
    for o in outcomes:
        n = stored.get(o.person, 0)
        ok = o.status.startswith("2")
        failed = o.status.startswith("5") or not _answered(o.status)
        figures["2xx"] += ok
        figures["4xx"] += o.status.startswith("4")
        figures["5xx"] += o.status.startswith("5")
        figures["no answer"] += not _answered(o.status)
        figures["committed but 5xx/no answer"] += failed and n > 0
        figures["failed, not committed"] += failed and n == 0
        figures["2xx lost"] += ok and n == 0
    sent = {o.person for o in outcomes}
    figures["duplicated"] = sum(1 for person, n in stored.items() if n > 1)
    figures["stored without a request"] = sum(1 for person in stored if person not in sent)
    problems = [
        f"{name}: {figures[key]} {key}"
        for key in ("committed but 5xx/no answer", "2xx lost", "duplicated")
        if figures[key]
    ]
    if figures["stored without a request"]:
        problems.append(f"{name}: {figures['stored without a request']} stored without a request")
    return problems, dict(figures)


def report_load(name: str, unit: str, outcomes: Sequence[Outcome], elapsed: float) -> None:
    statuses = Counter(o.status for o in outcomes)
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    lat = [o.ms for o in outcomes if o.status.startswith("2")]
    print(
        f"  {name}: {len(outcomes)} requests, {ok} {unit} accepted = {ok / elapsed:.0f}/s; "
        f"2xx latency p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, "
        f"p99 {pct(lat, 99):.0f} ms, max {max(lat, default=0):.0f} ms"
    )
    print(f"    responses: {dict(sorted(statuses.items()))}")


def report_windows(load: Load, events: Sequence[tuple[float, float, str]]) -> None:
    """The answers that came during each fault and in the 10 s after it."""
    for begin, end, what in events:
        for label, lo, hi in (("during", begin, end), ("10 s after", end, end + 10)):
            for name, outcomes in (("signing", load.sign), ("casting", load.cast)):
                seen = Counter(o.status for o in outcomes if lo <= o.at < hi)
                print(f"    {what}, {label} ({lo:.1f}–{hi:.1f} s), {name}: {dict(seen)}")


def check(
    seed_sig: signatures.Seed,
    seed_cast: cast.Seed,
    load: Load,
    worker: subprocess.Popen[bytes],
    beat: subprocess.Popen[bytes],
    last_fault: float,
    folder: Path,
) -> bool:
    problems: list[str] = []

    # Signing: every resident signed one proposal once.
    index_of_user = {user_id: i for i, user_id in enumerate(seed_sig.users)}
    signed: Counter[int] = Counter()
    for user_id in Signature.objects.filter(user_id__in=seed_sig.users).values_list(
        "user_id", flat=True
    ):
        signed[index_of_user[user_id]] += 1
    found, sign_figures = classify("signing", load.sign, signed)
    problems += found
    rows = dict(
        Signature.objects.values_list("proposal_id")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "n")
    )
    for proposal in Proposal.objects.all():
        if proposal.signature_count != rows.get(proposal.pk, 0):
            problems.append(
                f"proposal {proposal.pk}: counter {proposal.signature_count}, "
                f"{rows.get(proposal.pk, 0)} rows"
            )
    audits = AuditEntry.objects.filter(action="signature.add").count()
    if audits != sum(rows.values()):
        problems.append(f"{audits} signature audit entries for {sum(rows.values())} signatures")

    # Casting: every voter cast once. Which voter has a stored ballot (the roll entry, as the
    # database holds it) stays in this process: only counts are printed.
    election = seed_cast.election
    # The roll entries were bulk-created in the order of the seed's tokens (ascending ids).
    entry_to_person = {
        entry_id: i
        for i, entry_id in enumerate(
            RollEntry.objects.filter(election=election).order_by("pk").values_list("pk", flat=True)
        )
    }
    cast_stored: Counter[int] = Counter()
    ballots = Ballot.objects.filter(election=election)
    for entry_id in ballots.values_list("roll_entry_id", flat=True):
        cast_stored[entry_to_person[entry_id]] += 1
    found, cast_figures = classify("casting", load.cast, cast_stored)
    problems += found
    # The audit log, the outbox and the worker.
    breaks = audit_verify()
    unsealed = AuditEntry.objects.filter(seq__isnull=True).count()
    outbox = outbox_backlog()
    if breaks:
        problems.append(f"audit chains broken: {[b.chain for b in breaks]}")
    if unsealed:
        problems.append(f"{unsealed} audit entries unsealed")
    if outbox:
        why = Counter(
            (kind, (error or "")[:80])
            for kind, error in OutboxMessage.objects.filter(sent_at=None).values_list(
                "kind", "last_error"
            )
        )
        problems.append(f"{outbox} outbox messages not delivered: {dict(why)}")
    heartbeat = float(cache.get(HEARTBEAT_KEY) or 0)
    alive = worker.poll() is None and beat.poll() is None
    crashed = "Unrecoverable error" in (folder / "worker.log").read_text(errors="replace")
    if not alive or crashed:
        problems.append(f"worker alive {worker.poll() is None}, beat alive {beat.poll() is None}")
    if heartbeat <= last_fault:
        problems.append("no beat heartbeat reached the worker after the last fault")

    counted = Ballot.objects.filter(election=election, superseded=False).count()
    Election.objects.filter(pk=election.pk).update(status=Status.CLOSED)
    tally = tally_compute(actor=None, municipality=election.municipality, election_id=election.pk)
    if tally.ballots_counted != counted:
        problems.append(f"tally counts {tally.ballots_counted}, {counted} ballots stored")

    print("\nchecks")
    for name, figures in (("signing", sign_figures), ("casting", cast_figures)):
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(
        f"  counters == rows for {len(rows)} proposals; tally counts {tally.ballots_counted} of "
        f"{counted} stored ballots; audit chains {'intact' if not breaks else 'BROKEN'}, "
        f"{unsealed} unsealed, outbox backlog {outbox}; worker and beat "
        f"{'alive' if alive and not crashed else 'NOT alive'}, last heartbeat "
        f"{time.time() - heartbeat:.0f} s ago"
    )
    print("  " + ("OK" if not problems else "FAILED"))
    for problem in problems:
        print(f"    ! {problem}")
    return not problems


def settle(last_fault: float, seconds: float) -> float:
    """Wait (bounded) for the worker to seal the audit log, drain the outbox and run a heartbeat
    that beat sent after the last fault. Returns the seconds it took (or `seconds`)."""
    t0 = time.monotonic()
    while time.monotonic() < t0 + seconds:
        with contextlib.suppress(Exception):
            done = (
                not AuditEntry.objects.filter(seq__isnull=True).exists()
                and not outbox_backlog()
                and float(cache.get(HEARTBEAT_KEY) or 0) > last_fault
            )
            if done:
                break
        connections.close_all()
        time.sleep(1)
    return time.monotonic() - t0


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load")
    parser.add_argument("--sign-rate", type=float, default=150.0, help="signatures sent per s")
    parser.add_argument("--cast-rate", type=float, default=30.0, help="ballots sent per s")
    parser.add_argument("--redis-outage", type=float, default=7.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--quick", action="store_true", help="25 s at a third of the rates")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.sign_rate, args.cast_rate = 25.0, 50.0, 10.0
    residents = int(args.seconds * args.sign_rate) + 50
    voters = int(args.seconds * args.cast_rate) + 10

    folder = Path(tempfile.mkdtemp(prefix="mebuku-faults-"))
    cluster, redis = Cluster(folder, PG_PORT), RedisProcess(folder, REDIS_PORT)
    processes: list[subprocess.Popen[bytes]] = []
    ready = f"/api/v1/municipalities/{SLUG}"
    server = Server(args.port, args.workers, SERVER_ENV, ready, log=folder / "web.log")
    try:
        t0 = time.perf_counter()
        cluster.create()
        redis.start()
        call_command("migrate", verbosity=0, interactive=False)
        seed_sig = signatures.seed(residents, 10, 10**6, 10**6)
        seed_cast = cast.seed(voters, municipality=seed_sig.municipality)
        bodies = cast.encrypt_all(seed_cast.election, seed_cast.aliases)
        connections.close_all()
        print(
            f"own PostgreSQL on :{PG_PORT}, Redis on :{REDIS_PORT}; seeded {residents} residents "
            f"and {voters} voters (ballots encrypted) in {time.perf_counter() - t0:.0f} s"
        )
        proposals = [seed_sig.hot.pk, *(p.pk for p in seed_sig.spread)]
        sign_jobs = [
            (token, proposals[i % len(proposals)]) for i, token in enumerate(seed_sig.tokens)
        ]
        cast_jobs = list(zip(seed_cast.tokens, bodies, strict=True))

        worker = start_celery("worker", folder, SERVER_ENV)
        beat = start_celery("beat", folder, SERVER_ENV)
        processes += [worker, beat]
        server.start()
        print(
            f"\nload: {args.seconds:.0f} s, {args.sign_rate:.0f} signatures/s and "
            f"{args.cast_rate:.0f} ballots/s offered, production configuration "
            f"({args.workers} uvicorn workers, Celery worker and beat); Redis stopped for "
            f"{args.redis_outage:.0f} s at {0.2 * args.seconds:.0f} s, PostgreSQL restarted at "
            f"{0.6 * args.seconds:.0f} s"
        )
        faults = Faults(redis, cluster, args.seconds, args.redis_outage)
        busy0, total0 = machine_ticks()
        faults.start()
        load = asyncio.run(
            drive(
                args.port,
                sign_jobs,
                cast_jobs,
                seed_cast.election.pk,
                args.seconds,
                (args.sign_rate, args.cast_rate),
                (32, 32),
            )
        )
        faults.join(timeout=120)
        busy1, total1 = machine_ticks()
        if faults.error is not None:
            raise faults.error
        last_fault = time.time()
        report_load("signing", "signatures", load.sign, load.elapsed)
        report_load("casting", "ballots", load.cast, load.elapsed)
        cores = os.cpu_count() or 1
        print(
            f"  machine: {(busy1 - busy0) / max(total1 - total0, 1) * cores:.2f} of {cores} "
            f"cores busy over the load (this bench and every other job), load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        for begin, end, what in faults.events:
            print(f"  fault: {what} from {begin:.1f} s to {end:.1f} s")
        report_windows(load, faults.events)
        errors = (folder / "web.log").read_text(errors="replace").count("Internal Server Error")
        print(f"  the server logged {errors} internal server errors (each with its traceback)")
        server.stop()
        # An outbox relay stopped by a fault midway leaves its messages leased for 2 minutes.
        waited = settle(last_fault, 150)
        print(f"  worker caught up {waited:.0f} s after the load (sealed, outbox empty, heartbeat)")
        ok = check(seed_sig, seed_cast, load, worker, beat, last_fault, folder)
        if not ok:
            print("\nworker log (end):")
            print((folder / "worker.log").read_text(errors="replace")[-4000:])
    finally:
        server.stop()
        for process in processes:
            stop_process(process)
        connections.close_all()
        redis.stop()
        cluster.destroy()
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
