from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from identity.permissions import roles_held


def municipality(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "municipality", None)
    user = getattr(request, "user", None)
    held = roles_held(user, current) if current is not None and user is not None else frozenset()
    return {"municipality": current, "staff_roles": held}
