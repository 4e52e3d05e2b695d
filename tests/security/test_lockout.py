"""Issue 13, point 5: lockout is not a weapon. A stranger's wrong passwords (or wrong codes at the
two-step stage) lock out the stranger's address, not the account: its owner, elsewhere, signs
in. The broad per-address limit stays, and a brute force spread over many addresses still meets
a per-account ceiling. Every refusal is 429 with Retry-After. Limits as configured in
config/settings/base.py (the test settings turn them off; these tests turn them back on)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from identity.models import User
from identity.totp import totp_code
from tests.factories import PASSWORD, UserFactory, enable_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("production_rate_limits")]

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(LOGIN, {"login": email, "password": password})


def assert_locked(response: Any, seconds: int) -> None:
    assert response.status_code == 429, response.status_code
    assert response["Retry-After"] == str(seconds)
    assert "Too many attempts" in response.content.decode()


def test_wrong_passwords_lock_the_address_not_the_account() -> None:
    owner = UserFactory(email="staff@example.jp")
    attacker = from_address(ATTACKER)
    for _ in range(5):
        refused = sign_in(attacker, owner.email, "wrong-password")
        assert refused.status_code == 200  # the form again, with its error
        assert "_auth_user_id" not in attacker.session
    assert_locked(sign_in(attacker, owner.email, "wrong-password"), 300)
    # Locked means locked: even the right password is refused from there.
    assert_locked(sign_in(attacker, owner.email, PASSWORD), 300)

    owner_client = from_address(OWNER)
    signed_in = sign_in(owner_client, owner.email, PASSWORD)
    assert signed_in.status_code == 302
    assert owner_client.session["_auth_user_id"] == str(owner.pk)


def test_the_owners_successes_do_not_count_and_case_does_not_dodge() -> None:
    owner = UserFactory(email="clerk@example.jp")
    attacker = from_address(ATTACKER)
    for _ in range(5):
        sign_in(attacker, "CLERK@Example.jp", "wrong-password")
    assert_locked(sign_in(attacker, "clerk@example.jp", "wrong-password"), 300)
    owner_client = from_address(OWNER)
    for _ in range(8):  # more successes than any limit: only failures count
        assert sign_in(owner_client, owner.email, PASSWORD).status_code == 302
        owner_client.logout()


def test_the_broad_per_address_limit_stays() -> None:
    """One address trying many accounts: allauth's 10 a minute per address, whatever the account."""
    attacker = from_address(ATTACKER)
    users = [UserFactory() for _ in range(11)]
    for user in users[:10]:
        assert sign_in(attacker, user.email, "wrong-password").status_code == 200
    assert_locked(sign_in(attacker, users[10].email, "wrong-password"), 60)
    assert sign_in(from_address(OWNER), users[10].email, PASSWORD).status_code == 302


def test_a_distributed_brute_force_meets_the_per_account_ceiling() -> None:
    """100 failures an hour per account, from any number of addresses (5 each here): then the
    account is refused everywhere for up to an hour; the ceiling bounds guessing to 2,400 a day."""
    owner = UserFactory(email="target@example.jp")
    for n in range(20):
        bot = from_address(f"192.0.2.{n + 1}")
        for _ in range(5):
            assert sign_in(bot, owner.email, "guess").status_code == 200
    assert_locked(sign_in(from_address("192.0.2.200"), owner.email, "guess"), 3600)
    assert_locked(sign_in(from_address(OWNER), owner.email, PASSWORD), 3600)


def test_an_ipv6_attacker_cannot_walk_its_network_for_fresh_counts() -> None:
    owner = UserFactory(email="v6@example.jp")
    for n in range(5):
        sign_in(from_address(f"2001:db8:1:2::{n + 1}"), owner.email, "wrong-password")
    assert_locked(sign_in(from_address("2001:db8:1:2::ff"), owner.email, "wrong"), 300)
    assert sign_in(from_address("2001:db8:9:9::1"), owner.email, PASSWORD).status_code == 302


# The two-step stage ----------------------------------------------------------------------------


def _at_code_step(address: str, user: User) -> Client:
    client = from_address(address)
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302 and response["Location"].endswith(MFA)
    return client


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_wrong_codes_lock_the_address_not_the_account() -> None:
    """Someone who has the password (phished, say) types wrong codes: their address is locked,
    the owner passes the two-step stage from their own."""
    owner = UserFactory(email="mfa@example.jp")
    secret = enable_totp(owner)
    attacker = _at_code_step(ATTACKER, owner)
    for _ in range(5):
        refused = attacker.post(MFA, {"code": _wrong(totp_code(secret))})
        assert refused.status_code == 200
    assert_locked(attacker.post(MFA, {"code": _wrong(totp_code(secret))}), 300)
    assert_locked(attacker.post(MFA, {"code": totp_code(secret)}), 300)
    assert "_auth_user_id" not in attacker.session

    owner_client = _at_code_step(OWNER, owner)
    done = owner_client.post(MFA, {"code": totp_code(secret)})
    assert done.status_code == 302
    assert owner_client.session["_auth_user_id"] == str(owner.pk)


def test_headless_wrong_codes_are_refused_with_429_json() -> None:
    """allauth's app API: the same lockout at its two-step stage, in its JSON, with Retry-After."""
    owner = UserFactory(email="app@example.jp")
    secret = enable_totp(owner)

    def at_code_step(address: str) -> tuple[Client, str]:
        client = from_address(address)
        started = client.post(
            "/_allauth/app/v1/auth/login",
            {"email": owner.email, "password": PASSWORD},
            content_type="application/json",
        )
        assert started.status_code == 401  # the next stage: a code
        return client, started.json()["meta"]["session_token"]

    def code(client: Client, token: str, value: str) -> Any:
        return client.post(
            "/_allauth/app/v1/auth/2fa/authenticate",
            {"code": value},
            content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )

    attacker, token = at_code_step(ATTACKER)
    for _ in range(5):
        assert code(attacker, token, _wrong(totp_code(secret))).status_code == 400
    locked = code(attacker, token, totp_code(secret))
    assert locked.status_code == 429
    assert locked["Retry-After"] == "300"
    assert locked.json()["status"] == 429

    owner_client, owner_token = at_code_step(OWNER)
    done = code(owner_client, owner_token, totp_code(secret))
    assert done.status_code == 200
    assert done.json()["data"]["user"]["email"] == owner.email
