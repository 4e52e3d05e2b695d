"""The Celery app; tasks run eagerly in-process when no REDIS_URL is set (see settings.base)."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init, task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("mebuku")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How every worker is started (Makefile, docs/operations.md, bench/faults.py, tests/faults/).
# Each of these steps keeps a pub/sub subscription on the broker; when Redis restarts and the
# worker reads the loss on that socket before its task connection, kombu 5.7 closes the channel
# twice and the worker dies (`'NoneType' object has no attribute 'hostname'`, issue 14). Nothing
# here uses them: /healthz has its own heartbeat task, and remote control is off in settings.
WORKER_ARGS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


@celeryd_init.connect
def _warn_unsafe_worker(conf: Any = None, options: dict[str, Any] | None = None, **_: Any) -> None:
    # A signal handler cannot stop the worker (Celery logs its exceptions), so say it loudly.
    missing = [flag for flag in WORKER_ARGS if not (options or {}).get(flag[2:].replace("-", "_"))]
    if missing and str(conf.broker_url if conf else "").startswith(("redis", "rediss")):
        logging.getLogger("mebuku.celery").critical(
            "this worker will die when Redis restarts: start it with %s (docs/operations.md)",
            " ".join(missing),
        )


@task_failure.connect
def _count_failure(sender: object = None, **kwargs: object) -> None:
    from config.metrics import task_failed

    task_failed(sender, **kwargs)
