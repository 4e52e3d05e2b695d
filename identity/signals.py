"""Account events from allauth go to the site chain of the audit log.

allauth commits its own writes before sending these signals, so the entry follows the change in a
transaction of its own (the one place where change and entry are not one transaction; see
docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.db import transaction
from django.dispatch import receiver

from identity.audit import audit_record
from identity.models import User


def _record(user: User, action: str, **data: Any) -> None:
    with transaction.atomic():
        audit_record(actor=user, municipality=None, action=action, target=user, data=data)


@receiver(account_signals.user_signed_up)
def _signed_up(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    _record(user, "account.sign_up")


@receiver(account_signals.email_confirmed)
def _email_confirmed(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    _record(email_address.user, "account.email_confirmed")


@receiver(account_signals.password_changed)
def _password_changed(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    _record(user, "account.password_change")


@receiver(account_signals.password_reset)
def _password_reset(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    _record(user, "account.password_reset")


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "account.mfa_add", type=authenticator.type)


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "account.mfa_remove", type=authenticator.type)


@receiver(mfa_signals.authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "account.mfa_reset", type=authenticator.type)
