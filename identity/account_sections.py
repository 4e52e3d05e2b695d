"""Sections other apps add to *My account* (e.g. proposals' committee invitations), named in the
MEBUKU_ACCOUNT_SECTIONS setting so that identity/ knows none of those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

from identity.models import User


@dataclass(frozen=True)
class AccountSection:
    """A template included in the account page, which finds `context` as `section`."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[HttpRequest, User], AccountSection | None]


@cache
def _builders() -> tuple[SectionBuilder, ...]:
    return tuple(import_string(path) for path in settings.MEBUKU_ACCOUNT_SECTIONS)


def account_sections(request: HttpRequest, user: User) -> list[AccountSection]:
    """Each app's section for `user`, in the setting's order; a builder returns None to show
    nothing (e.g. no invitation pending)."""
    return [s for s in (build(request, user) for build in _builders()) if s is not None]
