"""Issue 15, defect 9: the small things a person notices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from identity.audit import audit_record
from identity.audit_display import action_label
from identity.models import Municipality, Role
from tests.factories import (
    ProposalFactory,
    ProposalTypeFactory,
    UserFactory,
    logged_in,
    staff,
    verified,
)

pytestmark = pytest.mark.django_db


def test_the_reauthentication_code_page_is_japanese() -> None:
    client = logged_in(UserFactory())
    response = client.get("/accounts/reauthenticate/code/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Recipient" not in page
    assert "コードの送信先" in page and 'name="recipient"' in page


def _audit_page(town: Municipality, language: str = "ja") -> str:
    admin = staff(town, Role.ADMINISTRATOR)
    client = logged_in(admin)
    return client.get("/m/maebashi/staff/audit/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_audit_log_reads_as_words(town: Municipality) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            municipality=town,
            action="debate.phases_set",
            data={"residence_required": True, "min_age": None, "phases": ["diverge", "converge"]},
        )
    ProposalFactory(type=ProposalTypeFactory(municipality=town), author=verified(town))
    page = _audit_page(town)
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "True" not in table and "None" not in table and "{" not in table
    assert "<dt>住民のみ</dt><dd>はい</dd>" in table
    assert "<dt>最低年齢</dt><dd>—</dd>" in table
    assert "<dt>段階</dt><dd>diverge, converge</dd>" in table
    assert "話し合いの段階を設定" in table and "提案を提出" in table and "役割を付与" in table
    english = _audit_page(town, "en")
    assert "Residents only" in english and "Proposal filed" in english


def test_every_audited_action_has_words() -> None:
    """Every action name written anywhere in the code has a label (a new one must add its own)."""
    root = Path(__file__).resolve().parents[2]
    written: set[str] = set()
    for app in ("identity", "proposals", "debates", "voting"):
        for source in (root / app).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            written |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
    expanded = {
        "proposal.expired",
        "proposal.certification",
        "proposal.submitted",
        "proposal.not_certified",
        "debate.contribution_hide",
        "debate.comment_hide",
    }
    missing = sorted(a for a in written | expanded if action_label(a) == a)
    assert written and not missing


@pytest.mark.parametrize(
    ("path", "name"),
    [("/m/maebashi/accounts/signup/", "めぶく（前橋市）"), ("/accounts/signup/", "めぶく")],
)
def test_sign_up_mail_names_the_site_and_municipality(
    town: Municipality, mailoutbox: list[Any], path: str, name: str
) -> None:
    response = Client().post(
        path,
        {
            "email": "new@example.jp",
            "password1": "long-enough-pass-2026",
            "password2": "long-enough-pass-2026",
        },
        HTTP_HOST="127.0.0.1",
    )
    assert response.status_code == 302, response.content
    [message] = mailoutbox
    assert f"こんにちは、{name} です" in message.body
    assert message.subject.startswith(f"[{name}] ")
    assert "127.0.0.1 です" not in message.body and "[127.0.0.1]" not in message.subject
