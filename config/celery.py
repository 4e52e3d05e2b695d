"""The Celery app; tasks run eagerly in-process when no REDIS_URL is set (see settings.base)."""

import os

from celery import Celery
from celery.signals import task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("mebuku")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_failure.connect
def _count_failure(sender: object = None, **kwargs: object) -> None:
    from config.metrics import task_failed

    task_failed(sender, **kwargs)
