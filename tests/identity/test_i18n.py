from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from identity.models import Municipality

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parents[2] / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def test_japanese_is_the_default(client: Client, maebashi: Municipality) -> None:
    body = client.get("/m/maebashi/").content.decode()
    assert '<html lang="ja">' in body
    assert "本文へ移動" in body and "ログイン" in body


def test_language_switch_is_a_plain_form_post(client: Client, maebashi: Municipality) -> None:
    response = client.post("/m/maebashi/i18n/setlang/", {"language": "en", "next": "/m/maebashi/"})
    assert response.status_code == 302 and response["Location"] == "/m/maebashi/"
    body = client.get("/m/maebashi/").content.decode()
    assert '<html lang="en">' in body
    assert "Skip to main content" in body and "Participate in Maebashi" in body
    client.post("/m/maebashi/i18n/setlang/", {"language": "ja", "next": "/m/maebashi/"})
    assert "前橋市のまちづくりに参加する" in client.get("/m/maebashi/").content.decode()


def test_language_switch_refuses_foreign_redirects(client: Client, maebashi: Municipality) -> None:
    response = client.post(
        "/m/maebashi/i18n/setlang/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_browser_language_is_honoured(client: Client, maebashi: Municipality) -> None:
    body = client.get("/m/maebashi/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in body


def test_every_japanese_message_is_translated() -> None:
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text.split("\n\n", 1)[1], "fuzzy translations in ja.po"
    entries = text.split("\n\n")[1:]
    untranslated = [
        entry
        for entry in entries
        if re.search(r'\nmsgstr ""\Z', entry.strip()) and "msgid_plural" not in entry
    ]
    assert untranslated == []
