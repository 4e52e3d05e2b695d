"""What debates/ sends after a change: outbox messages written in the change's transaction and
delivered by identity.outbox's relay (imported by DebatesConfig.ready to register handlers)."""

from __future__ import annotations

from typing import Any

from identity.outbox import outbox_add, outbox_handler

EVENT = "debates.event"
OPINIONS = "debates.opinions_schedule"


def event_add(debate_id: int, event: str, data: dict[str, object]) -> None:
    outbox_add(EVENT, {"debate": debate_id, "event": event, "data": data})


def opinions_dirty(debate_id: int) -> None:
    """A vote changed the debate: ask for a (debounced) recomputation of its opinion groups."""
    outbox_add(OPINIONS, {"debate": debate_id})


@outbox_handler(EVENT, coalesce=True)
def _event(payload: dict[str, Any]) -> None:
    from debates import events

    events.send(int(payload["debate"]), str(payload["event"]), dict(payload["data"]))


@outbox_handler(OPINIONS, coalesce=True)
def _opinions(payload: dict[str, Any]) -> None:
    from debates.services.opinions import opinions_schedule

    opinions_schedule(int(payload["debate"]))
