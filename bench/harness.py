"""What the HTTP benchmarks share: a fresh database, the production server as a subprocess, and CPU
accounting from /proc (this machine is shared, so every figure says who used the cores)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psycopg
from django.core.management import call_command
from django.db import connections

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
HOST = "127.0.0.1"


def production_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment under which every bench runs the production settings (its own database and
    Redis, throwaway keys, no TLS redirect). Put it in os.environ before django.setup()."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "MEBUKU_IDENTITY_HMAC_KEY": "bench-only-identity-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        # servestatic: no collectstatic for an API bench
        "PYTHONWARNINGS": "ignore:No directory at",
        **extra,
    }


# The server-and-worker benches: plain log lines, and receipts and notices relayed by the worker
# stay in memory (no SMTP server here).
SERVER_EXTRA = {
    "MEBUKU_LOG_FORMAT": "text",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def recreate_database(db_name: str) -> None:
    """Drop and create `db_name`, then migrate it (Django's settings must point at it)."""
    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {db_name}")
    call_command("migrate", verbosity=0, interactive=False)


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# ---------------------------------------------------------------------------------------------
# CPU accounting


def ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def process_group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def postgres_pids(db_name: str) -> list[int]:
    """Backends of the bench database and PostgreSQL's own processes (WAL writer, checkpointer),
    not the backends other jobs on this machine hold on other databases."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = %s OR backend_type <> 'client backend'",
            [db_name],
        ).fetchall()
    return [pid for (pid,) in rows]


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of the whole machine."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


class CpuMeter:
    """CPU seconds used over a `with` block by the bench process, the server's process group,
    PostgreSQL and everything else. `extra_bench` / `extra_postgres` add ticks of processes that
    ended inside the block (their CPU is gone from /proc by the time we look)."""

    def __init__(
        self,
        server_pgid: int | None,
        db_name: str,
        *,
        extra_bench: Callable[[], int] = lambda: 0,
        extra_postgres: Callable[[], int] = lambda: 0,
    ) -> None:
        self.server_pgid = server_pgid
        self.db_name = db_name
        self.extra_bench = extra_bench
        self.extra_postgres = extra_postgres
        self.hz = os.sysconf("SC_CLK_TCK")

    def _sample(self) -> dict[str, int]:
        server = sum(ticks(p) for p in process_group(self.server_pgid)) if self.server_pgid else 0
        busy, total = machine_ticks()
        return {
            "bench": ticks(os.getpid()) + self.extra_bench(),
            "server": server,
            "postgres": sum(ticks(p) for p in postgres_pids(self.db_name)) + self.extra_postgres(),
            "busy": busy,
            "total": total,
        }

    def __enter__(self) -> CpuMeter:
        self.start = self._sample()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        self.wall = time.perf_counter() - self.t0
        self.used = {k: (end[k] - self.start[k]) / self.hz for k in end}

    def line(self) -> str:
        u, w = self.used, self.wall
        other = u["busy"] - u["bench"] - u["server"] - u["postgres"]
        cores = os.cpu_count() or 1
        idle = (u["total"] - u["busy"]) / max(u["total"], 1e-9) * cores * w
        return (
            f"  CPU over {w:.1f} s (cores busy): client/bench {u['bench'] / w:.2f}, "
            f"server {u['server'] / w:.2f}, postgres {u['postgres'] / w:.2f}, "
            f"other jobs {max(other, 0) / w:.2f}, idle {idle / w:.2f} of {cores}"
        )


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """`uvicorn config.asgi:application` with the production settings in `env`, in a process
    group of its own; ready when `ready_path` answers 200, then each worker is warmed up."""

    def __init__(
        self,
        port: int,
        workers: int,
        env: Mapping[str, str],
        ready_path: str,
        log: Path | None = None,
    ) -> None:
        self.port, self.workers, self.env, self.ready_path = port, workers, env, ready_path
        self.log = log  # the server's output goes there instead of the bench's own
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "config.asgi:application",
            *("--host", HOST, "--port", str(self.port), "--workers", str(self.workers)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--log-level", "warning", "--backlog", "4096"),
        ]
        output = self.log.open("ab") if self.log is not None else None
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
        if output is not None:
            output.close()  # the server holds its own descriptor
        deadline = time.monotonic() + 60
        url = f"http://{HOST}:{self.port}{self.ready_path}"
        try:
            while time.monotonic() < deadline:
                ready = False
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(url, timeout=2) as response,
                ):
                    ready = response.status == 200
                if ready:
                    # Each worker answers its first requests slowly: warm them all up.
                    for _ in range(self.workers * 10):
                        with urllib.request.urlopen(url, timeout=5) as response:
                            response.read()
                    return
                time.sleep(0.2)
            raise RuntimeError("server did not become ready in 60 s")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


# ---------------------------------------------------------------------------------------------
# Services of a bench's own


class RedisProcess:
    """A redis-server on its own port, without persistence (production's Redis keeps nothing
    that matters: docs/operations.md)."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def start_celery(kind: str, folder: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A Celery worker or beat as docs/operations.md runs them, logging to `folder`."""
    from config.celery import WORKER_ARGS

    args = {
        "worker": ["worker", "--concurrency", "2", *WORKER_ARGS],
        "beat": ["beat", "--schedule", str(folder / "celerybeat-schedule")],
    }[kind]
    with (folder / f"{kind}.log").open("wb") as log:
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", *args, "--loglevel=WARNING"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
