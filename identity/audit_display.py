"""How people read the audit log: a label for each action and for each key of an entry's data,
and values written as words (はい/いいえ, —) rather than Python's True/None. Each app registers the
labels of its own actions (`<app>/audit_labels.py`, imported in its `ready()`), so identity names
no other app. The stored entry and the CSV keep the machine names; only the page is worded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_ACTIONS: dict[str, Promise] = {}
_KEYS: dict[str, Promise] = {}


def register(actions: Mapping[str, Promise], keys: Mapping[str, Promise] | None = None) -> None:
    _ACTIONS.update(actions)
    _KEYS.update(keys or {})


def action_label(action: str) -> str:
    """The action in words; an action nobody labelled keeps its machine name."""
    label = _ACTIONS.get(action)
    return str(label) if label is not None else action


def _value(value: Any) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key_label(k)}: {_value(v)}" for k, v in value.items())
    return str(value)


def key_label(key: str) -> str:
    label = _KEYS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def data_pairs(data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """An entry's data as (label, value) pairs in the reader's language, in key order."""
    return [(key_label(key), _value(value)) for key, value in sorted((data or {}).items())]


register(
    {
        "account.sign_up": gettext_lazy("Account created"),
        "account.email_confirmed": gettext_lazy("E-mail address confirmed"),
        "account.password_change": gettext_lazy("Password changed"),
        "account.password_reset": gettext_lazy("Password reset"),
        "account.mfa_add": gettext_lazy("Two-step verification added"),
        "account.mfa_remove": gettext_lazy("Two-step verification removed"),
        "account.mfa_reset": gettext_lazy("Recovery codes renewed"),
        "account.profile_update": gettext_lazy("Profile changed"),
        "account.export": gettext_lazy("Own data downloaded"),
        "account.delete": gettext_lazy("Account deleted"),
        "account.flags_change": gettext_lazy("Account status changed"),
        "account.create_at_counter": gettext_lazy("Account created at the counter"),
        "account.letter_issue": gettext_lazy("Letter with a sign-in link issued"),
        "municipality.create": gettext_lazy("Municipality added"),
        "municipality.change": gettext_lazy("Municipality changed"),
        "municipality.settings_update": gettext_lazy("Municipality settings changed"),
        "identity_provider.update": gettext_lazy("Identity provider changed"),
        "role.grant": gettext_lazy("Role granted"),
        "role.revoke": gettext_lazy("Role revoked"),
        "register.import": gettext_lazy("Resident register imported"),
        "verification.create": gettext_lazy("Resident verified"),
        "verification.renew": gettext_lazy("Verification renewed"),
        "verification.revoke": gettext_lazy("Verification withdrawn"),
        "verification.register_moved_out": gettext_lazy("Verification ended: moved out"),
        "verification.staff_view": gettext_lazy("Staff viewed a verification"),
    },
    {
        "id": gettext_lazy("ID"),
        "user": gettext_lazy("Account"),
        "role": gettext_lazy("Role"),
        "reason": gettext_lazy("Reason"),
        "text": gettext_lazy("Text"),
        "title": gettext_lazy("Title"),
        "name": gettext_lazy("Name"),
        "name_en": gettext_lazy("Name (English)"),
        "slug": gettext_lazy("Slug"),
        "host": gettext_lazy("Host name"),
        "code": gettext_lazy("Code"),
        "count": gettext_lazy("Count"),
        "rows": gettext_lazy("Rows"),
        "method": gettext_lazy("Method"),
        "kind": gettext_lazy("Kind"),
        "old": gettext_lazy("Before"),
        "new": gettext_lazy("After"),
        "before": gettext_lazy("Before"),
        "previous": gettext_lazy("Previous"),
        "fields": gettext_lazy("Changed"),
        "changed": gettext_lazy("Changed"),
        "display_name": gettext_lazy("Display name"),
        "login": gettext_lazy("May sign in"),
        "demo": gettext_lazy("Demo data"),
        "secret": gettext_lazy("Secret"),
        "encoding": gettext_lazy("Encoding"),
        "reference_date": gettext_lazy("Reference date"),
        "register": gettext_lazy("Register"),
        "verifications": gettext_lazy("Verifications"),
        "verification_valid_days": gettext_lazy("Verification valid (days)"),
        "expired": gettext_lazy("Expired"),
        "ended": gettext_lazy("Ended"),
        "by_municipality": gettext_lazy("By municipality"),
    },
)
