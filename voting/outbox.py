"""What voting/ sends after a change: outbox messages written in the change's transaction and
delivered by identity.outbox's relay (imported by VotingConfig.ready to register handlers)."""

from __future__ import annotations

from typing import Any

from identity.outbox import Message, outbox_add, outbox_add_many, outbox_handler

RECEIPT = "voting.receipt"
TASK = "voting.task"
# The tasks a message may queue (the payload names one).
TASKS = frozenset({"compute_tally", "publish_results"})


def receipts_send(ballot_ids: list[int]) -> None:
    """One message per ballot (one INSERT for all): each receipt is retried on its own and, by
    its key, sent once."""
    outbox_add_many(
        Message(RECEIPT, {"ballot": ballot_id}, key=f"{RECEIPT}:{ballot_id}")
        for ballot_id in ballot_ids
    )


def task_queue(task_name: str, election_id: int) -> None:
    if task_name not in TASKS:
        raise ValueError(f"unknown voting task {task_name!r}")
    outbox_add(TASK, {"task": task_name, "election": election_id})


@outbox_handler(RECEIPT)
def _receipt(payload: dict[str, Any]) -> None:
    from voting.tasks import send_tracker_email

    send_tracker_email(int(payload["ballot"]))


@outbox_handler(TASK)
def _task(payload: dict[str, Any]) -> None:
    from voting import tasks

    name = str(payload["task"])
    if name not in TASKS:
        raise ValueError(f"unknown voting task {name!r}")
    getattr(tasks, name).delay(int(payload["election"]))
