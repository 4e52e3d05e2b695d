"""Live debate events for anyone viewing a debate page (public data, no sign-in needed).

Services call :func:`publish` inside their transaction: it writes an outbox message, which the
relay broadcasts after the transaction commits (never for a rolled-back write; retried while the
channel layer is unreachable). Events: ``phase_changed``,
``contribution_added``, ``statement_published``, ``opinions_updated``. ``data`` must be
JSON-serialisable and hold only public information (ids, counts, phase keys), never personal data.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

EVENTS = frozenset(
    {"phase_changed", "contribution_added", "statement_published", "opinions_updated"}
)


def group_name(debate_id: int) -> str:
    return f"debates.{debate_id}"


def send(debate_id: int, event: str, data: dict[str, object]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        group_name(debate_id), {"type": "debate.event", "event": event, "data": data}
    )


def publish(debate_id: int, event: str, data: dict[str, object]) -> None:
    """Broadcast ``event`` to the debate's viewers once the current transaction commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown debate event {event!r}")
    from debates.outbox import event_add

    event_add(debate_id, event, dict(data))
