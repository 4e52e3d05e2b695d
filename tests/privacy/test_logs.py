"""Point 11: logs never carry personal data or reset keys, whatever the flow."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.core import mail
from django.test import Client

from config.logging import redact
from identity.models import Municipality, Role
from proposals.models import Proposal
from tests.factories import PASSWORD, ProposalFactory, ProposalTypeFactory, staff, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (with its filters and formatter) writes."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_sign_in_reset_signing_and_counter_log_no_personal_data(
    town: Municipality, console: io.StringIO
) -> None:
    resident = verified(town, email="hanako.sato@example.jp")
    proposal: Proposal = ProposalFactory(
        type=ProposalTypeFactory(municipality=town), collecting=True
    )
    secrets = {"hanako.sato@example.jp", "hanako.sato", "佐藤 花子", "本町三丁目"}

    # Sign-in: wrong password, then the right one.
    client = Client()
    client.post("/accounts/login/", {"login": resident.email, "password": "wrong"})
    client.post("/accounts/login/", {"login": resident.email, "password": PASSWORD})

    # Signing (and a second, refused signature).
    client.post(f"/m/{town.slug}/proposals/{proposal.pk}/sign/")
    client.post(f"/m/{town.slug}/proposals/{proposal.pk}/sign/")

    # A path that names a person and is not found: Django logs the path.
    client.get(f"/m/{town.slug}/people/{resident.email}/")

    # Password reset: the e-mailed link holds the key.
    Client().post("/accounts/password/reset/", {"email": resident.email})
    (link,) = re.findall(r"https?://\S+/accounts/password/reset/key/(\S+?)/", mail.outbox[-1].body)
    secrets.add(link.split("-", 1)[1])
    reset = Client()
    form = reset.get(f"/accounts/password/reset/key/{link}/")
    reset.post(form["Location"], {"password1": "new-pass-2026!x", "password2": "new-pass-2026!x"})
    reset.get(f"/accounts/password/reset/key/{link}/")  # used once: now refused

    # The counter: a clerk verifies a new resident by name, birth date and address.
    clerk = staff(town, Role.COUNTER_CLERK)
    counter = Client()
    counter.force_login(clerk)
    walk_in = verified(town)
    counter.post(
        f"/m/{town.slug}/staff/counter/people/{walk_in.pk}/verify/",
        {
            "legal_name": "佐藤 花子",
            "birth_date": date(1961, 2, 3).isoformat(),
            "address": "前橋市本町三丁目1番",
            "document_type": "drivers_license",
        },
    )
    counter.get(f"/m/{town.slug}/staff/counter/?q=hanako.sato@example.jp")

    # uvicorn's access line for the reset link, as uvicorn writes it.
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.9:50000",
        "GET",
        f"/accounts/password/reset/key/{link}/?email=hanako.sato@example.jp",
        "1.1",
        200,
    )

    written = console.getvalue()
    assert "Not Found" in written and "[redacted]" in written  # the flows did log
    for secret in secrets:
        assert secret not in written


def test_redact_keeps_what_is_not_secret() -> None:
    line = 'GET /m/maebashi/proposals/12/sign/ 302 "a@b.example.jp" /accounts/confirm-email/Mjk:1t/'
    assert (
        redact(line)
        == 'GET /m/maebashi/proposals/12/sign/ 302 "[e-mail]" /accounts/confirm-email/[redacted]/'
    )
