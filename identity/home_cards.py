"""The municipality home page's cards. Each app registers one (`<app>/home.py`, imported in its
`ready()`), saying what is open now, so identity shows debates and elections without importing
those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from identity.models import Municipality


@dataclass(frozen=True)
class OpenItem:
    title: str
    url: str
    until: datetime | None = None


@dataclass(frozen=True)
class HomeCard:
    key: str
    title: str
    url: str
    description: str
    open_label: str  # e.g. "3 collecting signatures now"; empty when nothing is open
    items: list[OpenItem] = field(default_factory=list)


CardMaker = Callable[[Municipality, datetime], HomeCard]
_MAKERS: list[tuple[int, CardMaker]] = []

# How many open items a card lists by name (the rest are behind its link).
ITEMS_SHOWN = 3


def register(order: int, maker: CardMaker) -> None:
    _MAKERS.append((order, maker))
    _MAKERS.sort(key=lambda pair: pair[0])


def home_cards(municipality: Municipality, now: datetime) -> list[HomeCard]:
    return [maker(municipality, now) for _, maker in _MAKERS]
