"""TOTP authenticators made outside allauth's enrolment form (demo staff, benchmarks, tests) and
the codes they accept.

allauth keeps its TOTP helpers in an `internal` module that a patch release may change, so this
uses only its public parts (the `Authenticator` model, the MFA adapter's `encrypt`, its settings)
and computes codes with pyotp (RFC 6238, allauth's parameters: HMAC-SHA1, MFA_TOTP_DIGITS digits,
MFA_TOTP_PERIOD seconds). tests/identity/test_api.py holds the two to each other: a code made
here is one allauth's own two-step login accepts.
"""

from __future__ import annotations

import time

import pyotp
from allauth.mfa import app_settings
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser


def totp_secret() -> str:
    """A new random secret: 160 bits in base32, as allauth's enrolment makes them."""
    return pyotp.random_base32(length=32)


def totp_activate(user: AbstractBaseUser, secret: str | None = None) -> str:
    """Give `user` a TOTP authenticator with `secret` (a new one if None); returns the secret."""
    secret = secret or totp_secret()
    Authenticator.objects.create(
        user=user,
        type=Authenticator.Type.TOTP,
        data={"secret": get_adapter().encrypt(secret)},
    )
    return secret


def totp_secret_of(user: AbstractBaseUser) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    return get_adapter().decrypt(authenticator.data["secret"])


def totp_code(secret: str, at: float | None = None) -> str:
    """The code valid at time `at` (now if None)."""
    totp = pyotp.TOTP(secret, digits=app_settings.TOTP_DIGITS, interval=app_settings.TOTP_PERIOD)
    return totp.at(time.time() if at is None else at)
