from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 64 + "production-like-secret-for-the-check",
    "MEBUKU_IDENTITY_HMAC_KEY": "identity-secret",
    "DJANGO_ALLOWED_HOSTS": "participate.example.jp",
}


def test_production_settings_pass_check_deploy() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_has_no_default_secret() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_services_follow_the_environment() -> None:
    """Embedded defaults without DATABASE_URL/REDIS_URL; the real services when they are set."""
    engine = settings.DATABASES["default"]["ENGINE"]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if os.environ.get("DATABASE_URL"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"
    if os.environ.get("REDIS_URL"):
        assert layer.startswith("channels_redis")
        assert settings.CELERY_BROKER_URL.startswith("redis://")
    else:
        assert layer.endswith("InMemoryChannelLayer")
        assert settings.CELERY_BROKER_URL == "memory://"


def test_production_sessions_come_from_redis_when_it_is_configured() -> None:
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    with_redis = _manage(
        "shell", "--no-imports", "-c", code, env={**PRODUCTION, "REDIS_URL": "redis://x:6379/0"}
    )
    without = _manage("shell", "--no-imports", "-c", code, env=PRODUCTION)
    assert with_redis.stdout.strip() == "django.contrib.sessions.backends.cached_db", with_redis
    assert without.stdout.strip() == "django.contrib.sessions.backends.db", without


def test_production_caches_in_redis_with_one_client_per_pool() -> None:
    env = {**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/15"}
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    # django-redis's client per pool; the subclass only reads an outage as an empty cache.
    assert result.stdout.strip().splitlines()[-1] == "config.cache.OutageTolerantRedisCache"


def test_production_takes_previous_secret_keys_for_rotation() -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    env = {**PRODUCTION, "DJANGO_SECRET_KEY_FALLBACKS": "old-key-one,old-key-two"}
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['old-key-one', 'old-key-two']"
