"""Issue 14, production settings: with Redis unreachable, signing in and signed-in pages keep
working (sessions from the database, rate limits and caches missing), and the outage is logged
once, not on every cache call."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import logging
from django.test import Client, override_settings
from allauth.account.models import EmailAddress
from identity.models import User

warnings = []
class Keep(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())
logging.getLogger("mebuku.cache_outage").addHandler(Keep())

user = User.objects.create_user(email="outage@example.jp", password="a long password 123")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
# Pages name hashed static files; the manifest comes from collectstatic, not needed here.
with override_settings(STORAGES={
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}):
    client = Client(HTTP_HOST="participate.example.jp", HTTP_ACCEPT_LANGUAGE="en")
    login = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "a long password 123"},
        secure=True,
    )
    print("login", login.status_code, login.get("Location"))
    for _ in range(3):
        page = client.get("/account/", secure=True)
        print("account", page.status_code, user.email in page.content.decode())
print("session", __import__("django.conf").conf.settings.SESSION_ENGINE)
print("logged", len(warnings))
"""


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again: nothing listens there


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_production_sign_in_and_pages_work_while_redis_is_down() -> None:
    db = connection.settings_dict
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 64 + "production-like-secret-for-the-test",
        "MEBUKU_IDENTITY_HMAC_KEY": "identity-secret",
        "DJANGO_ALLOWED_HOSTS": "participate.example.jp",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": f"redis://127.0.0.1:{_dead_port()}/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "login 302 /account/" in lines, result.stdout + result.stderr
    assert lines.count("account 200 True") == 3, result.stdout + result.stderr
    assert "session django.contrib.sessions.backends.cached_db" in lines
    assert "logged 1" in lines, result.stdout + result.stderr  # the outage, once
