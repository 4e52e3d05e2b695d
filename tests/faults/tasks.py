"""A task of the fault tests only (the worker under test is started with `--include` this module):
work that takes a while, like an e-mail to a slow SMTP server, so deliveries are in flight and
unacknowledged when Redis goes away."""

import time

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def nap(seconds: float) -> None:
    time.sleep(seconds)
